using System.Buffers;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// Hashed word and character n-grams into a fixed feature space, written into caller-provided spans.
/// Thread-safe: holds no mutable state. Allocation-free per call in steady state (pooled scratch buffers).
/// </summary>
public sealed class FeatureHasher
{
    private readonly FeaturizerOptions _o;
    private readonly TextNormalizer _normalizer;
    private readonly int _mask;
    private readonly int _keyBits;
    private readonly ulong _wordSeed;
    private readonly ulong _charSeed;

    public FeatureHasher(FeaturizerOptions? options = null)
    {
        _o = options ?? FeaturizerOptions.Default;
        if (_o.Dimension <= 0 || _o.Dimension > 1 << 30 || (_o.Dimension & (_o.Dimension - 1)) != 0)
            throw new ArgumentException("Dimension must be a power of two no larger than 2^30", nameof(options));
        if (_o.CharNgramMax > 0 && (_o.CharNgramMin < 1 || _o.CharNgramMin > _o.CharNgramMax || _o.CharNgramMax > 16))
            throw new ArgumentException("Character n-gram range must satisfy 1 <= min <= max <= 16", nameof(options));
        _mask = _o.Dimension - 1;
        _keyBits = System.Numerics.BitOperations.Log2((uint)_o.Dimension) + 1;
        _normalizer = new TextNormalizer(_o.Normalization);
        _wordSeed = TextHash.Finish((ulong)_o.Seed);
        _charSeed = TextHash.Finish((ulong)_o.Seed ^ 0x5DEECE66DUL);
    }

    public FeaturizerOptions Options => _o;

    /// <summary>The normaliser this hasher applies before tokenising.</summary>
    public TextNormalizer Normalizer => _normalizer;

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
        if (cap <= 0) return 0;
        var perChar = 2 + (_o.CharNgramMax > 0 ? _o.CharNgramMax - _o.CharNgramMin + 1 : 0);
        var rawCap = norm.Length * perChar + 3 * perChar + 16;
        var raw = ArrayPool<int>.Shared.Rent(rawCap);
        var scratch = ArrayPool<int>.Shared.Rent(rawCap);
        try
        {
            var count = Collect(norm, raw);
            var keys = RadixSort.Sort(raw.AsSpan(0, count), scratch.AsSpan(0, count), _keyBits);
            return Merge(keys, indices[..cap], values[..cap]);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(raw);
            ArrayPool<int>.Shared.Return(scratch);
        }
    }

    /// <summary>Describes the word n-grams of a text with the indices and signs Featurize gives them (for explanations; allocates).</summary>
    public IReadOnlyList<(string Ngram, int Index, float Sign)> Describe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var norm = _normalizer.Normalize(text);
        var list = new List<(string, int, float)>();
        string? prev = null;
        ulong prevHash = 0;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var word = norm.Substring(tok.Start, tok.Length);
            var h = TextHash.Hash(word, _wordSeed);
            if (_o.WordNgramMin <= 1) list.Add((word, Index(h), Sign(h)));
            if (_o.WordNgramMax >= 2 && prev is not null)
            {
                var hb = TextHash.Combine(prevHash, h);
                list.Add((prev + " " + word, Index(hb), Sign(hb)));
            }
            prev = word;
            prevHash = h;
        }
        return list;
    }

    // Raw features as (index << 1 | negative) keys, so one primitive sort groups them.
    private int Collect(ReadOnlySpan<char> norm, int[] raw)
    {
        var count = 0;
        ulong prev = 0;
        var havePrev = false;
        var unigrams = _o.WordNgramMin <= 1;
        var bigrams = _o.WordNgramMax >= 2;
        var chars = _o.CharNgramMax > 0;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var word = norm.Slice(tok.Start, tok.Length);
            var h = TextHash.Hash(word, _wordSeed);
            if (unigrams) raw[count++] = Key(h);
            if (bigrams && havePrev) raw[count++] = Key(TextHash.Combine(prev, h));
            prev = h;
            havePrev = true;
            if (chars && tok.Kind == TokenKind.Word) count = AddCharNgrams(word, raw, count);
        }
        return count;
    }

    // Character n-grams of "<word>" hashed incrementally from each start position (no copy of the padded word).
    private int AddCharNgrams(ReadOnlySpan<char> word, int[] raw, int count)
    {
        int min = _o.CharNgramMin, max = _o.CharNgramMax;
        var padded = word.Length + 2;
        for (var start = 0; start + min <= padded; start++)
        {
            var h = _charSeed;
            var limit = Math.Min(max, padded - start);
            for (var k = 0; k < limit; k++)
            {
                var p = start + k;
                var c = p == 0 ? '<' : p == padded - 1 ? '>' : word[p - 1];
                h = TextHash.Step(h, c);
                if (k + 1 >= min) raw[count++] = Key(TextHash.Finish(h ^ (ulong)(k + 1)));
            }
        }
        return count;
    }

    private int Key(ulong h) => (Index(h) << 1) | (_o.Signed ? (int)(h >> 63) : 0);

    private int Index(ulong h) => (int)(h & (ulong)_mask);
    private float Sign(ulong h) => !_o.Signed || (h >> 63) == 0 ? 1f : -1f;

    private int Merge(ReadOnlySpan<int> keys, Span<int> indices, Span<float> values)
    {
        if (keys.Length == 0) return 0;
        var w = 0;
        var i = 0;
        while (i < keys.Length && w < indices.Length)
        {
            var index = keys[i] >> 1;
            var v = 0;
            while (i < keys.Length && keys[i] >> 1 == index) v += (keys[i++] & 1) == 0 ? 1 : -1;
            if (v == 0) continue; // signed collisions cancelled out
            indices[w] = index;
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
