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
            lines.Add((t0.AddSeconds(60 + (i * 4)), Json($"c{i}", $"u:camp{i:D2}", t0.AddSeconds(60 + (i * 4)), string.Join(' ', words))));
        }
        for (var i = 0; i < 600; i++)
            lines.Add((t0.AddSeconds(i), Json($"b{i}", $"u:bg{i % 97}", t0.AddSeconds(i), $"weather report number {i} from station {i % 13}")));
        using var bed = PipelineTestBed.FromLines("ew-evidence", lines.OrderBy(l => l.At).Select(l => l.Json));
        await using var sqlite = new SqliteStore(Path.Combine(bed.Dir, "ew.db"));
        var store = new RecordingStore(sqlite);
        await store.InitializeAsync();
        // The evidence cache holds every post of this stream (612 < the default 50,000).
        var runner = bed.Runner(new PipelineOptions { StorePosts = StorePostsMode.Flagged }, store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await runner.RunAsync(timeout.Token);

        var cited = store.Alerts.SelectMany(a => a.Evidence.PostIds).ToHashSet(StringComparer.Ordinal);
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

    private static string Json(string id, string author, DateTimeOffset at, string text) => System.Text.Json.JsonSerializer.Serialize(new
    {
        id,
        platform = "test",
        created_at = at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        author = new { id = author, handle = author, followers = 100 },
        text,
        lang = "en",
        geo = new { country = "MM", region = "Yangon" },
    });

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
