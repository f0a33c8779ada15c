using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// Hashed word and character n-grams into a fixed feature space, written into caller-provided spans.
/// Thread-safe: holds no mutable state.
/// </summary>
public sealed class FeatureHasher
{
    private readonly FeaturizerOptions _o;
    private readonly TextNormalizer _normalizer;
    private readonly int _mask;

    public FeatureHasher(FeaturizerOptions? options = null)
    {
        _o = options ?? FeaturizerOptions.Default;
        if (_o.Dimension <= 0 || (_o.Dimension & (_o.Dimension - 1)) != 0)
            throw new ArgumentException("Dimension must be a power of two", nameof(options));
        _mask = _o.Dimension - 1;
        _normalizer = new TextNormalizer(_o.Normalization);
    }

    public FeaturizerOptions Options => _o;

    /// <summary>
    /// Featurises one raw text: normalises, tokenises, hashes n-grams, merges duplicates, scales.
    /// Writes at most <c>min(indices.Length, MaxFeatures)</c> distinct (index, value) pairs sorted by index; returns the count.
    /// </summary>
    public int Featurize(ReadOnlySpan<char> text, Span<int> indices, Span<float> values)
    {
        var normBuf = ArrayPool<char>.Shared.Rent(TextNormalizer.MaxOutputLength(text.Length));
        try
        {
            _normalizer.Normalize(text, normBuf, out var n);
            return FeaturizeNormalized(normBuf.AsSpan(0, n), indices, values);
        }
        finally { ArrayPool<char>.Shared.Return(normBuf); }
    }

    /// <summary>Featurises text that is already normalised with this hasher's normalisation steps.</summary>
    public int FeaturizeNormalized(ReadOnlySpan<char> norm, Span<int> indices, Span<float> values)
    {
        var cap = Math.Min(Math.Min(indices.Length, values.Length), _o.MaxFeatures);
        var rawCap = Math.Max(64, norm.Length * (_o.CharNgramMax - _o.CharNgramMin + 1 + 2) + 16);
        var rawIdx = ArrayPool<int>.Shared.Rent(rawCap);
        var rawVal = ArrayPool<float>.Shared.Rent(rawCap);
        try
        {
            var count = 0;
            ulong prev = 0;
            var havePrev = false;
            foreach (var tok in Tokenizer.Tokenize(norm))
            {
                var word = norm.Slice(tok.Start, tok.Length);
                var h = Hash(word, 0);
                if (_o.WordNgramMin <= 1 && count < rawCap) Add(rawIdx, rawVal, ref count, h);
                if (_o.WordNgramMax >= 2 && havePrev && count < rawCap) Add(rawIdx, rawVal, ref count, Mix(prev, h));
                prev = h; havePrev = true;
                if (tok.Kind is TokenKind.Word && _o.CharNgramMax > 0)
                    AddCharNgrams(word, rawIdx, rawVal, ref count, rawCap);
            }
            return Merge(rawIdx.AsSpan(0, count), rawVal.AsSpan(0, count), indices[..cap], values[..cap]);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rawIdx);
            ArrayPool<float>.Shared.Return(rawVal);
        }
    }

    /// <summary>Describes the features of a text as readable n-grams with their indices (for explanations; allocates).</summary>
    public IReadOnlyList<(string Ngram, int Index, float Sign)> Describe(string text)
    {
        var norm = _normalizer.Normalize(text);
        var list = new List<(string, int, float)>();
        string? prev = null;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var word = norm.Substring(tok.Start, tok.Length);
            var h = Hash(word, 0);
            if (_o.WordNgramMin <= 1) list.Add((word, Index(h), Sign(h)));
            if (_o.WordNgramMax >= 2 && prev is not null)
            {
                var hb = Mix(Hash(prev, 0), h);
                list.Add((prev + " " + word, Index(hb), Sign(hb)));
            }
            prev = word;
        }
        return list;
    }

    private void AddCharNgrams(ReadOnlySpan<char> word, int[] idx, float[] val, ref int count, int cap)
    {
        // Character n-grams of "<word>" so prefixes and suffixes are marked; hashing combines boundary markers.
        Span<char> padded = word.Length <= 254 ? stackalloc char[word.Length + 2] : new char[word.Length + 2];
        padded[0] = '<';
        word.CopyTo(padded[1..]);
        padded[^1] = '>';
        for (var n = _o.CharNgramMin; n <= _o.CharNgramMax; n++)
        {
            if (n > padded.Length) break;
            for (var i = 0; i + n <= padded.Length && count < cap; i++)
                Add(idx, val, ref count, Hash(padded.Slice(i, n), (ulong)n));
        }
    }

    private void Add(int[] idx, float[] val, ref int count, ulong h)
    {
        idx[count] = Index(h);
        val[count] = Sign(h);
        count++;
    }

    private int Index(ulong h) => (int)(h & (ulong)_mask);
    private float Sign(ulong h) => !_o.Signed || (h >> 63) == 0 ? 1f : -1f;

    private ulong Hash(ReadOnlySpan<char> s, ulong salt) =>
        XxHash64.HashToUInt64(MemoryMarshal.AsBytes(s), _o.Seed + (long)salt * 0x9E3779B1L);

    private static ulong Mix(ulong a, ulong b)
    {
        var x = a * 0x9E3779B97F4A7C15UL ^ (b + 0x632BE59BD9B4E019UL);
        x ^= x >> 31; x *= 0xBF58476D1CE4E5B9UL; x ^= x >> 29;
        return x;
    }

    private int Merge(Span<int> rawIdx, Span<float> rawVal, Span<int> indices, Span<float> values)
    {
        if (rawIdx.Length == 0) return 0;
        rawIdx.Sort(rawVal);
        var w = 0;
        var i = 0;
        while (i < rawIdx.Length && w < indices.Length)
        {
            var k = rawIdx[i];
            var v = 0f;
            while (i < rawIdx.Length && rawIdx[i] == k) v += rawVal[i++];
            if (v == 0f) continue; // signed collisions cancelled out
            indices[w] = k;
            values[w] = v;
            w++;
        }
        if (_o.L2Normalize && w > 0)
        {
            var sum = 0f;
            for (var j = 0; j < w; j++) sum += values[j] * values[j];
            var inv = 1f / MathF.Sqrt(sum);
            for (var j = 0; j < w; j++) values[j] *= inv;
        }
        return w;
    }
}
