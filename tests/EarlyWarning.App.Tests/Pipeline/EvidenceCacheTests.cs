using System.Globalization;
using System.Text;
using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Tests.Pipeline;

public sealed class EvidenceCacheTests
{
    /// <summary>
    /// Posts of every kind through a small cache whose JSON ring starts far too small: it wraps, grows and compacts,
    /// and after every post the cache answers for exactly the most recent <c>capacity</c> distinct ids, each unflagged
    /// one with its JSON, position, read time and decision as they were given.
    /// </summary>
    [Theory]
    [InlineData(1, 40)]
    [InlineData(2, 7)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    public void The_most_recent_posts_come_back_as_they_were_kept_through_wrap_and_growth(int seed, int capacity)
    {
        var rng = new Random(seed);
        var cache = new EvidenceCache(capacity, initialRingBytes: 64);
        var kept = new List<PostEnvelope>(); // what the cache should hold, oldest first
        var ids = new List<string>();
        var decoder = new PostDecoder(int.MaxValue);
        var repeats = 0;
        for (var i = 0; i < 600; i++)
        {
            // Now and then an id given again: ignored while the cache holds it, kept anew once it has left.
            var id = i > 0 && rng.Next(10) == 0 ? ids[rng.Next(ids.Count)] : "t:" + i.ToString(CultureInfo.InvariantCulture);
            var e = Envelope(id, i, rng, decoder);
            cache.Add(e);
            ids.Add(id);
            PostEnvelope? evicted = null;
            if (kept.Any(k => k.Post.Id == id)) repeats++;
            else
            {
                kept.Add(e);
                if (kept.Count > capacity)
                {
                    evicted = kept[0];
                    kept.RemoveAt(0);
                }
            }
            Assert.Equal(kept.Count, cache.Count);
            foreach (var g in kept)
            {
                var found = cache.TryGetUnflagged(g.Post.Id, out var back);
                Assert.True(g.Decision is not { IsFlagged: true } == found, $"post {i}: {g.Post.Id} flagged {g.Decision?.IsFlagged}, found {found}");
                if (found) Assert.Equal(Describe(g), Describe(back));
            }
            if (evicted is not null && !kept.Any(k => k.Post.Id == evicted.Post.Id))
                Assert.False(cache.TryGetUnflagged(evicted.Post.Id, out _));
        }
        Assert.True(capacity == 1 || repeats > 0, "no id was given twice while kept");
        Assert.True(cache.RingBytes > 64, "the ring never grew: the test did not reach the growth path");
        Assert.Equal(0, cache.Unreadable);
        Assert.True(RawSanitizer.IsPlaceholder(Placeholder));
    }

    /// <summary>
    /// A ring of 1,000 bytes, capacity 2: A (400 bytes) and B (400) fill it to 800; C evicts A, and fits at the start
    /// (before B at 400) when it is shorter than 400 bytes, else the ring must grow; nothing may overwrite B.
    /// </summary>
    [Theory]
    [InlineData(399, false)]
    [InlineData(400, true)]
    [InlineData(420, true)]
    public void At_the_end_of_the_ring_a_post_wraps_to_the_start_only_short_of_the_oldest(int lengthC, bool grows)
    {
        var cache = new EvidenceCache(2, initialRingBytes: 1000);
        var posts = new[] { Sized("a", 400), Sized("b", 400), Sized("c", lengthC) };
        foreach (var p in posts) cache.Add(p);
        Assert.Equal(grows, cache.RingBytes > 1000);
        AssertKept(cache, posts[1..]);
    }

    /// <summary>
    /// Capacity 3: A 400, B 300, C 250 (to 950); D (350) evicts A and wraps to the start, before B at 400; E evicts B
    /// and goes after D (at 350) when it ends before C at 700, else the ring must grow; nothing may overwrite C.
    /// </summary>
    [Theory]
    [InlineData(349, false)]
    [InlineData(350, true)]
    [InlineData(370, true)]
    public void Once_wrapped_a_post_fits_only_in_the_gap_before_the_oldest(int lengthE, bool grows)
    {
        var cache = new EvidenceCache(3, initialRingBytes: 1000);
        var posts = new[] { Sized("a", 400), Sized("b", 300), Sized("c", 250), Sized("d", 350), Sized("e", lengthE) };
        foreach (var p in posts) cache.Add(p);
        Assert.Equal(grows, cache.RingBytes > 1000);
        AssertKept(cache, posts[2..]);
    }

    private static void AssertKept(EvidenceCache cache, PostEnvelope[] posts)
    {
        foreach (var p in posts)
        {
            Assert.True(cache.TryGetUnflagged(p.Post.Id, out var back), p.Post.Id);
            Assert.Equal(Describe(p), Describe(back));
        }
        Assert.Equal(0, cache.Unreadable);
    }

    // An unflagged post whose kept JSON is exactly `length` bytes.
    private static PostEnvelope Sized(string id, int length)
    {
        string Json(int pad) => System.Text.Json.JsonSerializer.Serialize(new
        {
            id,
            platform = "test",
            created_at = "2026-11-07T08:00:00Z",
            author = new { id = "u:" + id, followers = 1 },
            text = "t" + new string('a', pad),
        });
        var json = Encoding.UTF8.GetBytes(Json(length - Json(0).Length));
        Assert.Equal(length, json.Length);
        Assert.True(new PostDecoder(int.MaxValue).TryDecode(json, out var post, out var reason), reason);
        post!.Raw = json;
        return new PostEnvelope
        {
            Post = post,
            Position = new SourcePosition("s", length),
            Decision = new Decision { PostId = id, Label = Labels.None, Model = "m" },
        };
    }

    [Fact]
    public void A_post_whose_kept_json_cannot_be_decoded_is_counted_not_returned()
    {
        var cache = new EvidenceCache(10);
        var post = new Post { Id = "t:1", Platform = "x", CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = "hello", Raw = "{\"id\":"u8.ToArray() };
        cache.Add(new PostEnvelope { Post = post, Position = new SourcePosition("s", 1) });
        Assert.False(cache.TryGetUnflagged("t:1", out _));
        Assert.Equal(1, cache.Unreadable);
        Assert.False(cache.TryGetUnflagged("t:2", out _));
        Assert.Equal(1, cache.Unreadable);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EvidenceCache(0));
    }

    private static readonly byte[] Placeholder = """{"raw_unavailable":"the original document could not be sanitised"}"""u8.ToArray();

    private static PostEnvelope Envelope(string id, int i, Random rng, PostDecoder decoder)
    {
        var text = string.Concat(Enumerable.Range(0, rng.Next(0, 60)).Select(_ => "w" + rng.Next(1000).ToString(CultureInfo.InvariantCulture) + " "));
        var json = System.Text.Json.JsonSerializer.Serialize(new
        {
            id,
            platform = "test",
            created_at = DateTimeOffset.UnixEpoch.AddMinutes(i).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            author = new { id = "u:" + rng.Next(50).ToString(CultureInfo.InvariantCulture), handle = "h", followers = rng.Next(1000) },
            text = text.Length == 0 ? "x" : text,
            lang = "en",
        });
        Assert.True(decoder.TryDecode(Encoding.UTF8.GetBytes(json), out var post, out var reason), reason);
        // The sanitiser's placeholder (and no JSON at all) are kept whole.
        var kind = rng.Next(8);
        if (kind == 0) post!.Raw = Placeholder;
        else if (kind == 1) post!.Raw = ReadOnlyMemory<byte>.Empty;
        Decision? decision = rng.Next(6) switch
        {
            0 => null,
            1 => new Decision { PostId = id, Label = Labels.Hate, Scores = [0.1f, 0.2f, 0.7f], Model = "m", Explanation = ["lexicon:x"], Terms = ["x"] },
            _ => new Decision
            {
                PostId = id,
                Label = Labels.None,
                Scores = [(float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble()],
                Incitement = rng.Next(2) * 0.3f,
                Dehumanisation = rng.Next(2) * 0.2f,
                Target = rng.Next(2) == 0 ? null : "muslims",
                Model = "m@" + rng.Next(3).ToString(CultureInfo.InvariantCulture),
                Terms = rng.Next(3) == 0 ? ["muslim", "term" + i.ToString(CultureInfo.InvariantCulture)] : [],
                Explanation = rng.Next(4) == 0 ? ["ngram"] : [],
            },
        };
        return new PostEnvelope { Post = post!, Position = new SourcePosition("replay:x", i * 10L), Decision = decision, ReadTimestamp = 1000 + i };
    }

    private static string Describe(PostEnvelope e)
    {
        var p = e.Post;
        var d = e.Decision;
        return string.Join("|", p.Id, p.Platform, p.CreatedAt.ToString("O", CultureInfo.InvariantCulture), p.AuthorId, p.AuthorFollowers, p.Text,
            Convert.ToHexString(p.Raw.Span), e.Position, e.ReadTimestamp, d is null ? "no decision" : string.Join("|", d.PostId, d.Label,
                string.Join(",", d.Scores), d.Incitement, d.Dehumanisation, d.Target, d.Model, string.Join(",", d.Explanation), string.Join(",", d.Terms)));
    }
}
