using EarlyWarning.Core.Posts;

namespace EarlyWarning.Network.Tests;

/// <summary>Test-only MinHash over a set of words: 64 slots, slot i = min over words of mix(hash(word) ^ seed_i).</summary>
internal static class TestMinHash
{
    public const int Slots = 64;

    public static ulong[] Of(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
        var sig = new ulong[Slots];
        Array.Fill(sig, ulong.MaxValue);
        foreach (var w in words)
        {
            var h = 0xCBF29CE484222325UL;
            foreach (var c in w) h = (h ^ c) * 0x100000001B3UL;
            for (var i = 0; i < Slots; i++)
            {
                var v = Mix(h ^ Mix((ulong)i + 0x9E3779B97F4A7C15UL));
                if (v < sig[i]) sig[i] = v;
            }
        }
        return sig;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        x ^= x >> 33;
        return x;
    }

    public static double Jaccard(string a, string b)
    {
        var sa = a.Split(' ').ToHashSet();
        var sb = b.Split(' ').ToHashSet();
        return (double)sa.Intersect(sb).Count() / sa.Union(sb).Count();
    }
}

/// <summary>Builds posts and envelopes for tests.</summary>
internal static class Posts
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
    private static long _offset;

    public static PostEnvelope Make(
        string id, string author, DateTimeOffset at, string text = "", string? replyTo = null, string? repostOf = null,
        string? quoteOf = null, string[]? mentions = null, string[]? hashtags = null, string[]? urls = null,
        MediaItem[]? media = null, string? country = null, string? region = null, string label = Labels.None,
        string? target = null, float incitement = 0, int followers = 10, bool minHash = true)
    {
        var post = new Post
        {
            Id = id,
            CreatedAt = at,
            AuthorId = author,
            AuthorFollowers = followers,
            Text = text,
            Country = country,
            Region = region,
            ReplyTo = replyTo,
            RepostOf = repostOf,
            QuoteOf = quoteOf,
            Mentions = mentions ?? [],
            Hashtags = hashtags ?? [],
            Urls = urls ?? [],
            Media = media ?? [],
        };
        return new PostEnvelope
        {
            Post = post,
            Position = new SourcePosition("test", Interlocked.Increment(ref _offset)),
            Decision = new Decision { PostId = id, Label = label, Target = target, Incitement = incitement, Model = "test" },
            MinHash = minHash && text.Length > 0 ? TestMinHash.Of(text) : null,
        };
    }
}
