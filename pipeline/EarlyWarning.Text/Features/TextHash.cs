using System.Runtime.CompilerServices;

namespace EarlyWarning.Text.Features;

/// <summary>
/// The seeded 64-bit hash the features use: FNV-1a over UTF-16 code units, finished with the MurmurHash3 64-bit
/// mixer so that low bits (the feature index) and the top bit (the sign) are well distributed.
/// </summary>
public static class TextHash
{
    private const ulong Prime = 0x100000001B3UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Step(ulong h, char c) => (h ^ c) * Prime;

    /// <summary>Hash of a whole token.</summary>
    public static ulong Hash(ReadOnlySpan<char> s, ulong seed)
    {
        var h = seed ^ 0xCBF29CE484222325UL;
        foreach (var c in s) h = (h ^ c) * Prime;
        return Finish(h ^ (ulong)s.Length);
    }

    /// <summary>MurmurHash3's fmix64 finaliser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Finish(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        x ^= x >> 33;
        return x;
    }

    /// <summary>Combines two hashes (order matters), for word bigrams.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Combine(ulong a, ulong b) => Finish((a * 0x9E3779B97F4A7C15UL) ^ (b + 0x632BE59BD9B4E019UL));
}
