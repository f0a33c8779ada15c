using System.Buffers.Binary;

namespace EarlyWarning.Text.Myanmar;

/// <summary>
/// Tells Zawgyi-encoded Burmese from Unicode Burmese with the Markov model of Google's Myanmar Tools
/// (<c>models/text/zawgyiUnicodeModel.dat</c>, Apache-2.0; see <c>models/text/NOTICE</c>). The reader is our own,
/// written from the documented big-endian binary format. Thread-safe and allocation-free after construction.
/// </summary>
public sealed class ZawgyiDetector
{
    /// <summary>File name of the model under <c>models/text/</c>.</summary>
    public const string ModelFileName = "zawgyiUnicodeModel.dat";

    private const ulong ModelMagic = 0x555A4D4F44454C20UL; // "UZMODEL "
    private const ulong ChainMagic = 0x424D41524B4F5620UL; // "BMARKOV "

    // State layout: 0 = anything else, then the Myanmar ranges, then (model-dependent) U+2000..U+200B.
    private const int StdOffset = 1;                              // U+1000..U+103F
    private const int AftOffset = StdOffset + 0x40;               // U+104A..U+109F
    private const int ExaOffset = AftOffset + (0x109F - 0x104A + 1); // U+AA60..U+AA7F
    private const int ExbOffset = ExaOffset + 0x20;               // U+A9E0..U+A9FF
    private const int SpcOffset = ExbOffset + 0x20;               // U+2000..U+200B

    private static readonly Lazy<ZawgyiDetector> LazyDefault = new(() => new ZawgyiDetector(FindModelPath()));

    private readonly float[] _delta; // size*size log-probability differences (Unicode minus Zawgyi), row-major
    private readonly int _size;
    private readonly bool _spaceStates;

    /// <summary>The detector loaded from the shipped model (found beside the application or above it).</summary>
    public static ZawgyiDetector Default => LazyDefault.Value;

    public ZawgyiDetector(string modelPath) : this(File.ReadAllBytes(modelPath)) { }

    public ZawgyiDetector(ReadOnlySpan<byte> model)
    {
        var r = new BigEndianReader(model);
        if ((ulong)r.Int64() != ModelMagic) throw new InvalidDataException("Not a Zawgyi/Unicode model (bad magic number).");
        var version = r.Int32();
        var ssv = version switch
        {
            1 => 0,
            2 => r.Int32(),
            _ => throw new InvalidDataException($"Unsupported model version {version}."),
        };
        if (ssv is not (0 or 1)) throw new InvalidDataException($"Unsupported state-set version {ssv}.");
        _spaceStates = ssv == 0;
        if ((ulong)r.Int64() != ChainMagic) throw new InvalidDataException("Bad Markov chain magic number.");
        _ = r.Int32(); // chain serial version
        _size = r.Int16();
        if (_size < SpcOffset || _size > 4096)
            throw new InvalidDataException($"Unexpected Markov chain size {_size}.");
        _delta = new float[_size * _size];
        for (var row = 0; row < _size; row++)
        {
            int entries = r.Int16();
            if (entries < 0 || entries > _size) throw new InvalidDataException($"Bad entry count in row {row}.");
            if (entries == 0) continue;
            var fallback = r.Single();
            _delta.AsSpan(row * _size, _size).Fill(fallback);
            for (var e = 0; e < entries; e++)
            {
                int col = r.Int16();
                var value = r.Single();
                if (col < 0 || col >= _size) throw new InvalidDataException($"Bad column {col} in row {row}.");
                _delta[row * _size + col] = value;
            }
        }
    }

    /// <summary>
    /// Probability in [0, 1] that <paramref name="text"/> is Zawgyi rather than Unicode; negative infinity when the
    /// text holds no Myanmar-range code point (no evidence either way).
    /// </summary>
    public double GetZawgyiProbability(ReadOnlySpan<char> text)
    {
        var prev = 0;
        var total = 0.0;
        var seen = false;
        for (var i = 0; i <= text.Length; i++)
        {
            var cur = i == text.Length ? 0 : StateOf(text[i]);
            if (prev != 0 || cur != 0)
            {
                total += _delta[prev * _size + cur];
                seen = true;
            }
            prev = cur;
        }
        return seen ? 1.0 / (1.0 + Math.Exp(total)) : double.NegativeInfinity;
    }

    /// <summary>True when the text contains any character the model scores (Myanmar script ranges).</summary>
    public static bool ContainsMyanmar(ReadOnlySpan<char> text) =>
        text.ContainsAnyInRange('\u1000', '\u109F') || text.ContainsAnyInRange('\uAA60', '\uAA7F') || text.ContainsAnyInRange('\uA9E0', '\uA9FF');

    // Supplementary code points all map to state 0, and so do both halves of a surrogate pair: indexing by UTF-16
    // unit gives the same result as indexing by code point.
    private int StateOf(char c)
    {
        if (c < '\u1000') return 0;
        if (c <= '\u103F') return c - 0x1000 + StdOffset;
        if (c is >= '\u104A' and <= '\u109F') return c - 0x104A + AftOffset;
        if (c is >= '\uAA60' and <= '\uAA7F') return c - 0xAA60 + ExaOffset;
        if (c is >= '\uA9E0' and <= '\uA9FF') return c - 0xA9E0 + ExbOffset;
        if (_spaceStates && c is >= '\u2000' and <= '\u200B') return c - 0x2000 + SpcOffset;
        return 0;
    }

    /// <summary>Finds <c>models/text/zawgyiUnicodeModel.dat</c>: <c>EARLYWARNING_MODELS</c>, the app folder, or a parent of it.</summary>
    public static string FindModelPath()
    {
        var env = Environment.GetEnvironmentVariable("EARLYWARNING_MODELS");
        if (!string.IsNullOrEmpty(env))
        {
            var p = Path.Combine(env, "text", ModelFileName);
            if (File.Exists(p)) return p;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "models", "text", ModelFileName);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"models/text/{ModelFileName} not found beside or above {AppContext.BaseDirectory}");
    }

    private ref struct BigEndianReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
        public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
        public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
        public float Single() => BinaryPrimitives.ReadSingleBigEndian(Take(4));

        private ReadOnlySpan<byte> Take(int n)
        {
            if (_pos + n > _data.Length) throw new InvalidDataException("Model file is truncated.");
            var s = _data.Slice(_pos, n);
            _pos += n;
            return s;
        }
    }
}
