using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
    public void Compute(ReadOnlySpan<char> normalizedText, Span<ulong> signature) => Compute(normalizedText, signature, Lanes);

    /// <summary>Slots computed at once where the CPU has 64-bit lane multiplies (8 with AVX-512DQ, else 4), or 1.</summary>
    internal static readonly int Lanes =
        Vector512.IsHardwareAccelerated && Avx512DQ.IsSupported ? 8 : Vector256.IsHardwareAccelerated ? 4 : 1;

    /// <summary><see cref="Compute(ReadOnlySpan{char}, Span{ulong})"/> with <paramref name="lanes"/> slots at a time (8, 4 or 1; tests run each).</summary>
    internal void Compute(ReadOnlySpan<char> normalizedText, Span<ulong> signature, int lanes)
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
            var i = 0;
            // The same permutations 8 or 4 slots at a time (64-bit lane multiplies): the same values as the loop below.
            if (lanes == 8)
            {
                var hv = Vector512.Create(h);
                for (; i + 8 <= sig.Length; i += 8)
                {
                    var v = Finish(hv * Vector512.Create<ulong>(salts.AsSpan(i, 8)));
                    Vector512.Min(v, Vector512.Create<ulong>(sig.Slice(i, 8))).CopyTo(sig.Slice(i, 8));
                }
            }
            else if (lanes == 4)
            {
                var hv = Vector256.Create(h);
                for (; i + 4 <= sig.Length; i += 4)
                {
                    var v = Finish(hv * Vector256.Create<ulong>(salts.AsSpan(i, 4)));
                    Vector256.Min(v, Vector256.Create<ulong>(sig.Slice(i, 4))).CopyTo(sig.Slice(i, 4));
                }
            }
            for (; i < sig.Length; i++)
            {
                // One cheap permutation per slot: multiply by an odd salt, then mix.
                var v = TextHash.Finish(h * salts[i]);
                if (v < sig[i]) sig[i] = v;
            }
        }
    }

    // TextHash.Finish per lane.
    private static Vector512<ulong> Finish(Vector512<ulong> x)
    {
        x ^= Vector512.ShiftRightLogical(x, 33);
        x *= Vector512.Create(0xFF51AFD7ED558CCDUL);
        x ^= Vector512.ShiftRightLogical(x, 33);
        x *= Vector512.Create(0xC4CEB9FE1A85EC53UL);
        return x ^ Vector512.ShiftRightLogical(x, 33);
    }

    private static Vector256<ulong> Finish(Vector256<ulong> x)
    {
        x ^= Vector256.ShiftRightLogical(x, 33);
        x *= Vector256.Create(0xFF51AFD7ED558CCDUL);
        x ^= Vector256.ShiftRightLogical(x, 33);
        x *= Vector256.Create(0xC4CEB9FE1A85EC53UL);
        return x ^ Vector256.ShiftRightLogical(x, 33);
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
