using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// MinHash signatures over the set of tokens of a normalised text, for near-duplicate detection: the fraction of
/// equal signature slots estimates the Jaccard similarity of the two token sets. Thread-safe; allocation-free.
/// </summary>
public sealed class MinHasher
{
    /// <summary>Default seed; signatures are only comparable between hashers with the same seed and size.</summary>
    public const long DefaultSeed = 0x4D494E48;

    private readonly ulong[] _salts;
    private readonly ulong _tokenSeed;

    public MinHasher(int numHashes = 64, long seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numHashes, 1);
        NumHashes = numHashes;
        _tokenSeed = TextHash.Finish((ulong)seed ^ 0xA5A5A5A5A5A5A5A5UL);
        _salts = new ulong[numHashes];
        var s = (ulong)seed;
        for (var i = 0; i < numHashes; i++)
        {
            s += 0x9E3779B97F4A7C15UL; // splitmix64 sequence
            _salts[i] = TextHash.Finish(s) | 1;
        }
    }

    public int NumHashes { get; }

    /// <summary>
    /// Writes the signature of <paramref name="normalizedText"/> (length <see cref="NumHashes"/>) into
    /// <paramref name="signature"/>. A text with no tokens gets all slots <see cref="ulong.MaxValue"/>.
    /// </summary>
    public void Compute(ReadOnlySpan<char> normalizedText, Span<ulong> signature)
    {
        if (signature.Length < NumHashes)
            throw new ArgumentException($"Signature needs {NumHashes} slots.", nameof(signature));
        var sig = signature[..NumHashes];
        sig.Fill(ulong.MaxValue);
        var salts = _salts;
        foreach (var tok in Tokenizer.Tokenize(normalizedText))
        {
            if (tok.Kind == TokenKind.Url) continue;
            var h = TextHash.Hash(normalizedText.Slice(tok.Start, tok.Length), _tokenSeed);
            for (var i = 0; i < sig.Length; i++)
            {
                // One cheap permutation per slot: multiply by an odd salt, then mix.
                var v = TextHash.Finish(h * salts[i]);
                if (v < sig[i]) sig[i] = v;
            }
        }
    }

    /// <summary>Estimated Jaccard similarity: the fraction of equal slots (0 when lengths differ or are zero).</summary>
    public static double EstimateJaccard(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (a.Length != b.Length || a.Length == 0) return 0;
        var same = 0;
        for (var i = 0; i < a.Length; i++)
            if (a[i] == b[i]) same++;
        return (double)same / a.Length;
    }
}
