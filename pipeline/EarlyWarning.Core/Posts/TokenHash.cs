namespace EarlyWarning.Core.Posts;

/// <summary>
/// The one token hash shared by the stages that exchange tokens (<see cref="PostEnvelope.TokenHashes"/>): FNV-1a over
/// UTF-16 code units, finished with a 64-bit mixer. Stable across runs and processes (it is checkpointed).
/// </summary>
public static class TokenHash
{
    public static ulong Of(ReadOnlySpan<char> token)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var c in token) h = (h ^ c) * 0x100000001B3UL;
        h ^= h >> 33; h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }
}
