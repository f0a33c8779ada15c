using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.Integration.Tests;

/// <summary>With <c>--store-posts flagged</c>, an alert still brings the unflagged posts it cites into the store.</summary>
public sealed class EvidencePostsTests
{
    [Fact]
    public async Task In_flagged_mode_the_unflagged_posts_an_alert_cites_are_stored_with_it_and_nothing_else_unflagged_is()
    {
        // Twelve accounts post paraphrases of one new, harmless text within a minute (a coordinated campaign whose posts
        // the classifier does not flag), among unrelated posts; the stream goes on for ten minutes so detection runs.
        var t0 = new DateTimeOffset(2026, 11, 7, 8, 0, 0, TimeSpan.Zero);
        var lines = new List<(DateTimeOffset At, string Json)>();
        var rng = new Random(7);
        string[] slogan = ["please", "share", "the", "new", "polling", "station", "list", "for", "the", "northern", "district", "today"];
        for (var i = 0; i < 12; i++)
        {
            var words = (string[])slogan.Clone();
            words[rng.Next(words.Length)] = "friends" + i;
            var json = Json($"c{i}", $"u:camp{i:D2}", t0.AddSeconds(60 + (i * 4)), string.Join(' ', words),
                mentions: [$"u:bg{i}", "u:bg50"], hashtags: ["vote", "north"], urls: [$"https://example.org/list/{i}"]);
            // Some posts carry a field whose JSON cannot be sanitised (a lone surrogate): the store gets a placeholder
            // for their JSON, so the cache must keep those posts whole.
            if (i % 4 == 1) json = json[..^1] + ",\"note\":\"\\ud800\"}";
            lines.Add((t0.AddSeconds(60 + (i * 4)), json));
        }
        // Unrelated background posts: eight random words each from a large vocabulary, so no two are near-duplicates.
        for (var i = 0; i < 600; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 8).Select(_ => "w" + rng.Next(5_000).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            lines.Add((t0.AddSeconds(i), Json($"b{i}", $"u:bg{i % 97}", t0.AddSeconds(i), text)));
        }
        var ordered = lines.OrderBy(l => l.At).Select(l => l.Json).ToList();
        using var bed = PipelineTestBed.FromLines("ew-evidence", ordered);
        await using var sqlite = new SqliteStore(Path.Combine(bed.Dir, "ew.db"));
        var store = new RecordingStore(sqlite);
        await store.InitializeAsync();
        // The evidence cache holds every post of this stream (612 < the default 50,000).
        var runner = bed.Runner(new PipelineOptions { StorePosts = StorePostsMode.Flagged }, store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await runner.RunAsync(timeout.Token);

        var cited = store.Alerts.SelectMany(a => a.Evidence.PostIds).ToHashSet(StringComparer.Ordinal);
        // An evidence post is read back from the JSON kept for it: it must be the post the pipeline decoded and
        // pseudonymised, field for field, as --store-posts all stores it straight from the decode stage.
        using var allBed = PipelineTestBed.FromLines("ew-evidence-all", ordered);
        await using var allSqlite = new SqliteStore(Path.Combine(allBed.Dir, "ew.db"));
        var allStore = new RecordingStore(allSqlite);
        await allStore.InitializeAsync();
        await allBed.Runner(new PipelineOptions { StorePosts = StorePostsMode.All }, allStore).RunAsync(timeout.Token);
        var direct = allStore.Posts.ToDictionary(p => p.Post.Id, StringComparer.Ordinal);
        var evidence = store.Posts.Where(p => p.Decision is not { IsFlagged: true }).ToList();
        Assert.All(evidence, p => Assert.StartsWith("c", p.Post.Id, StringComparison.Ordinal)); // the campaign's posts
        foreach (var p in evidence) Assert.Equal(Describe(direct[p.Post.Id]), Describe(p));
        Assert.True(evidence.Any(p => RawSanitizer.IsPlaceholder(p.Post.Raw.Span)), "no placeholder among " + string.Join(",", evidence.Select(p => p.Post.Id)) + " of " + string.Join(",", store.Alerts.Select(a => a.Kind))); // the kept-whole path ran
        Assert.Contains(evidence, p => !RawSanitizer.IsPlaceholder(p.Post.Raw.Span)); // and the read-back one
        var unflaggedStored = store.Posts.Where(p => p.Decision is not { IsFlagged: true }).Select(p => p.Post.Id).ToHashSet(StringComparer.Ordinal);
        Assert.True(unflaggedStored.Count > 0, $"{store.Alerts.Count} alerts, {cited.Count} cited posts, {store.Posts.Count} posts stored"); // the stream's alerts cite unflagged posts: otherwise this test checks nothing
        // Every unflagged post stored was cited by an alert, and each was stored no later than the first alert citing it.
        Assert.Subset(cited, unflaggedStored);
        foreach (var id in unflaggedStored)
            Assert.True(store.FirstStored[id] <= store.FirstCited[id], $"{id} stored after the alert that cites it");
        // Every cited post of the stream is stored: flagged ones as decisions, unflagged ones as evidence.
        var streamIds = store.Posts.Select(p => p.Post.Id).ToHashSet(StringComparer.Ordinal);
        var citedUnflaggedMissing = cited.Where(id => !streamIds.Contains(id)).ToList();
        Assert.True(citedUnflaggedMissing.Count == 0, $"{citedUnflaggedMissing.Count} cited posts not stored, e.g. {citedUnflaggedMissing.FirstOrDefault()}");
    }

    private static string Json(string id, string author, DateTimeOffset at, string text, string[]? mentions = null, string[]? hashtags = null,
        string[]? urls = null) => System.Text.Json.JsonSerializer.Serialize(new
    {
        id,
        platform = "test",
        created_at = at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        author = new { id = author, handle = "h_" + author, followers = 100 },
        text,
        lang = "en",
        geo = new { country = "MM", region = "Yangon", lat = 16.8, lon = 96.1 },
        reply_to = (string?)null,
        mentions = mentions ?? [],
        hashtags = hashtags ?? [],
        urls = urls ?? [],
        media = Array.Empty<object>(),
    });

    /// <summary>Every field of a stored post and its decision, as text (the read timestamp differs between runs).</summary>
    private static string Describe(PostEnvelope e)
    {
        var p = e.Post;
        var d = e.Decision;
        return string.Join("|", p.Id, p.Platform, p.CreatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), p.AuthorId,
            p.AuthorHandle, p.AuthorFollowers, p.Text, p.Lang, p.Country, p.Region, p.ReplyTo, p.RepostOf, p.QuoteOf, p.ReportedBy,
            string.Join(",", p.Mentions), string.Join(",", p.Hashtags), string.Join(",", p.Urls), string.Join(",", p.Media),
            System.Text.Encoding.UTF8.GetString(p.Raw.Span), e.Position.Offset, d?.Label, d is null ? "" : string.Join(",", d.Scores), d?.Target,
            d?.Model, d is null ? "" : string.Join(",", d.Explanation), d is null ? "" : string.Join(",", d.Terms));
    }

    /// <summary>A store that notes the posts and alerts it is given, and in which write each id was first stored or cited.</summary>
    private sealed class RecordingStore(IPipelineStore inner) : DelegatingStore(inner)
    {
        private int _writes;
        public List<PostEnvelope> Posts { get; } = [];
        public List<Core.Alerts.Alert> Alerts { get; } = [];
        public Dictionary<string, int> FirstStored { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, int> FirstCited { get; } = new(StringComparer.Ordinal);

        public override Task WriteAsync(StoreBatch batch, CancellationToken ct = default)
        {
            lock (Posts)
            {
                var write = _writes++;
                foreach (var p in batch.Posts)
                {
                    Posts.Add(p);
                    FirstStored.TryAdd(p.Post.Id, write);
                }
                foreach (var a in batch.Alerts)
                {
                    Alerts.Add(a);
                    foreach (var id in a.Evidence.PostIds) FirstCited.TryAdd(id, write);
                }
            }
            return base.WriteAsync(batch, ct);
        }
    }
}
