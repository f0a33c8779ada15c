using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// 64-bit SimHash (Charikar) over the tokens and token bigrams of a normalised text: near-duplicates differ in few
/// bits (compare with <see cref="HammingDistance"/>). Allocation-free.
/// </summary>
public static class SimHasher
{
    private const ulong Seed = 0x53494D48ABCDEF01UL;

    public static ulong Compute(ReadOnlySpan<char> normalizedText)
    {
        Span<int> weights = stackalloc int[64];
        weights.Clear();
        ulong prev = 0;
        var havePrev = false;
        var any = false;
        foreach (var tok in Tokenizer.Tokenize(normalizedText))
        {
            var h = TextHash.Hash(normalizedText.Slice(tok.Start, tok.Length), Seed);
            Accumulate(weights, h);
            if (havePrev) Accumulate(weights, TextHash.Combine(prev, h));
            prev = h;
            havePrev = true;
            any = true;
        }
        if (!any) return 0;
        ulong result = 0;
        for (var b = 0; b < 64; b++)
            if (weights[b] > 0) result |= 1UL << b;
        return result;
    }

    public static int HammingDistance(ulong a, ulong b) => System.Numerics.BitOperations.PopCount(a ^ b);

    private static void Accumulate(Span<int> weights, ulong h)
    {
        for (var b = 0; b < 64; b++) weights[b] += ((h >> b) & 1) != 0 ? 1 : -1;
    }
}
