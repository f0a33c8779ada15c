namespace EarlyWarning.Fuzz;

/// <summary>
/// A seeded, structure-unaware mutator in the spirit of libFuzzer's: bit flips, interesting bytes, inserted tokens,
/// deletions, duplicated chunks, splices of two inputs, truncation, and now and then plain random bytes.
/// </summary>
public sealed class Mutator(int seed, IReadOnlyList<byte[]> corpus, int maxLength = 4096)
{
    private readonly Random _rng = new(seed);

    private static readonly byte[][] Tokens =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "null"u8.ToArray(), "true"u8.ToArray(), "1e999"u8.ToArray(), "-0"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "\\u0000"u8.ToArray(),
        "\"id\":"u8.ToArray(), "\"author\":{\"id\":\"u\"}"u8.ToArray(), "\"created_at\":"u8.ToArray(), "\"text\":"u8.ToArray(), "\"mentions\":[\"m\"]"u8.ToArray(),
        "\"geo\":{"u8.ToArray(), "\"media\":[{}]"u8.ToArray(), "2026-11-08T06:15:03Z"u8.ToArray(), "\n"u8.ToArray(), "\r\n"u8.ToArray(), "\"\""u8.ToArray(),
        "text,label\n"u8.ToArray(), "\xEF\xBB\xBF"u8.ToArray(), [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x00],
        "\u200B"u8.ToArray(), "\u1000\u103B"u8.ToArray(), "\uFF41"u8.ToArray(), "😀"u8.ToArray(),
    ];

    private static readonly byte[] Interesting = [0, 1, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xFF, (byte)'"', (byte)'\\', (byte)'{', (byte)',', (byte)'\n'];

    public byte[] Next()
    {
        if (_rng.Next(50) == 0)
        {
            var random = new byte[_rng.Next(0, 256)];
            _rng.NextBytes(random);
            return random;
        }
        var data = new List<byte>(corpus[_rng.Next(corpus.Count)]);
        var rounds = 1 + _rng.Next(6);
        for (var r = 0; r < rounds; r++) MutateOnce(data);
        if (data.Count > maxLength) data.RemoveRange(maxLength, data.Count - maxLength);
        return [.. data];
    }

    private void MutateOnce(List<byte> d)
    {
        var pos = d.Count == 0 ? 0 : _rng.Next(d.Count + 1);
        switch (_rng.Next(9))
        {
            case 0 when d.Count > 0:
                var i = _rng.Next(d.Count);
                d[i] ^= (byte)(1 << _rng.Next(8));
                break;
            case 1 when d.Count > 0:
                d[_rng.Next(d.Count)] = Interesting[_rng.Next(Interesting.Length)];
                break;
            case 2:
                d.InsertRange(pos, Tokens[_rng.Next(Tokens.Length)]);
                break;
            case 3 when d.Count > 0:
                var start = _rng.Next(d.Count);
                d.RemoveRange(start, Math.Min(d.Count - start, 1 + _rng.Next(16)));
                break;
            case 4 when d.Count > 0:
                var s = _rng.Next(d.Count);
                var len = Math.Min(d.Count - s, 1 + _rng.Next(64));
                d.InsertRange(pos, d.GetRange(s, len));
                break;
            case 5:
                var other = corpus[_rng.Next(corpus.Count)];
                if (other.Length == 0) break;
                var os = _rng.Next(other.Length);
                d.InsertRange(pos, other.AsSpan(os, Math.Min(other.Length - os, 1 + _rng.Next(128))).ToArray());
                break;
            case 6 when d.Count > 0:
                d.RemoveRange(pos, d.Count - pos);
                break;
            case 7:
                d.Insert(pos, (byte)_rng.Next(256));
                break;
            default:
                // Repeat a byte many times (long runs, deep nesting).
                var b = d.Count > 0 ? d[_rng.Next(d.Count)] : (byte)'[';
                d.InsertRange(pos, Enumerable.Repeat(b, 1 + _rng.Next(200)));
                break;
        }
    }
}
