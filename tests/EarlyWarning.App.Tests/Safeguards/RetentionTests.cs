using System.Text;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.App.Tests.Safeguards;

public sealed class RetentionTests
{
    private const string OldMarker = "zqxoldmarkerwq7";
    private const string NewMarker = "zqxnewmarkerwq8";

    private static async Task<(SqliteStore Store, string Db)> SeedAsync()
    {
        var (_, db) = SafeguardTestData.NewStorePath();
        var store = new SqliteStore(db);
        await store.InitializeAsync();
        var t = SafeguardTestData.T0;
        var posts = new List<PostEnvelope>();
        for (var i = 0; i < 200; i++)
        {
            var old = i % 2 == 0;
            var at = old ? t.AddDays(-40).AddMinutes(i) : t.AddDays(-1).AddMinutes(i);
            posts.Add(SafeguardTestData.Post($"p{i}", at, $"{(old ? OldMarker : NewMarker)} number {i} some words", i % 4 == 0 ? Labels.Hate : Labels.None));
        }
        var batch = new StoreBatch();
        batch.Posts.AddRange(posts);
        batch.Alerts.Add(SafeguardTestData.Alert(AlertKinds.VolumeSpike, t.AddDays(-40), t.AddDays(-40).AddHours(1)));
        batch.Alerts.Add(SafeguardTestData.Alert(AlertKinds.VolumeSpike, t.AddDays(-1), t.AddDays(-1).AddHours(1)));
        batch.DeadLetters.Add(new DeadLetter(new SourcePosition("test", 1), DeadLetterReasons.InvalidJson, Encoding.UTF8.GetBytes("{bad " + OldMarker), t.AddDays(-40)));
        batch.DeadLetters.Add(new DeadLetter(new SourcePosition("test", 2), DeadLetterReasons.InvalidJson, Encoding.UTF8.GetBytes("{bad " + NewMarker), t.AddDays(-1)));
        batch.Aggregates.Add(new SeriesPoint(t.AddDays(-40), "KE", "Nairobi", "women", Labels.Hate, 5));
        batch.Aggregates.Add(new SeriesPoint(t.AddDays(-1), "KE", "Nairobi", "women", Labels.Hate, 7));
        await store.WriteAsync(batch);
        await store.UpdateAlertStatusAsync(Alert.MakeId(AlertKinds.VolumeSpike, new Scope("KE", "Nairobi", "women"), t.AddDays(-40)), AlertStatus.Acknowledged, "ana", null);
        return (store, db);
    }

    private static long Count(string db, string sql)
    {
        using var conn = new SqliteConnection($"Data Source={db};Pooling=false");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    private static bool InFile(string db, string marker) =>
        SafeguardTestData.FileContains(db, Encoding.UTF8.GetBytes(marker)) || SafeguardTestData.FileContains(db + "-wal", Encoding.UTF8.GetBytes(marker));

    [Fact]
    public async Task Expired_data_is_gone_from_rows_search_and_file_bytes()
    {
        var (store, db) = await SeedAsync();
        await using var _ = store;
        await using var sg = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(sg);
        await log.AppendAsync("ana", AuditActions.ViewPost, "p0");
        Assert.True(InFile(db, OldMarker), "the seeded marker should be in the file before retention");
        Assert.Equal(100, (await store.SearchPostsAsync(OldMarker, 1000)).Count);

        var policy = RetentionPolicy.Parse("posts=30d,dead_letters=30d,aggregates=30d,alerts=30d");
        var result = await new RetentionJob(store, sg, policy, log).RunOnceAsync(SafeguardTestData.T0);

        Assert.Equal(100, result.Deleted["posts"]);
        Assert.Equal(1, result.Deleted["dead_letters"]);
        Assert.Equal(1, result.Deleted["aggregates"]);
        Assert.Equal(1, result.Deleted["alerts"]);
        Assert.True(result.WalTruncated);
        Assert.Equal(100, Count(db, "SELECT count(*) FROM posts"));
        Assert.Equal(0, Count(db, "SELECT count(*) FROM posts WHERE text LIKE '%" + OldMarker + "%'"));
        Assert.Equal(100, Count(db, "SELECT count(*) FROM decisions"));
        Assert.Equal(0, Count(db, "SELECT count(*) FROM decisions WHERE post_id NOT IN (SELECT id FROM posts)"));
        Assert.Equal(1, Count(db, "SELECT count(*) FROM alerts"));
        Assert.Equal(1, Count(db, "SELECT count(*) FROM dead_letters"));
        Assert.Equal(1, Count(db, "SELECT count(*) FROM aggregates"));
        Assert.Null(await store.GetPostAsync("p0"));
        Assert.NotNull(await store.GetPostAsync("p1"));
        Assert.Empty(await store.SearchPostsAsync(OldMarker, 1000));
        Assert.Equal(100, (await store.SearchPostsAsync(NewMarker, 1000)).Count);
        // The bytes left the file, the WAL included; what is kept is still there.
        Assert.False(InFile(db, OldMarker), "expired text is still in the database file or its WAL");
        Assert.True(InFile(db, NewMarker));
        // Audit is never expired: the alert audit trail and the safeguard log stay, and the run itself is logged.
        Assert.Equal(1, Count(db, "SELECT count(*) FROM alert_audit"));
        var audit = await log.ReadAsync();
        Assert.Equal(2, audit.Count);
        Assert.Equal(AuditActions.RetentionRun, audit[1].Action);
        Assert.Contains("posts=100", audit[1].Note, StringComparison.Ordinal);
        Assert.True((await log.VerifyAsync()).Valid);
    }

    [Fact]
    public async Task Decisions_can_expire_before_their_posts()
    {
        var (store, db) = await SeedAsync();
        await using var _ = store;
        await using var sg = new SqliteSafeguardStore(db);
        var r = await new RetentionJob(store, sg, new RetentionPolicy { Decisions = TimeSpan.FromDays(10) }, new SqliteAuditLog(sg))
            .RunOnceAsync(SafeguardTestData.T0);
        Assert.Equal(100, r.Deleted["decisions"]);
        Assert.Equal(200, Count(db, "SELECT count(*) FROM posts"));
        Assert.Equal(100, Count(db, "SELECT count(*) FROM decisions"));
        Assert.Null((await store.GetPostAsync("p0"))!.Label);
    }

    [Fact]
    public async Task Nothing_expires_within_the_retention_period()
    {
        var (store, db) = await SeedAsync();
        await using var _ = store;
        await using var sg = new SqliteSafeguardStore(db);
        var r = await new RetentionJob(store, sg, RetentionPolicy.Parse("posts=60d, alerts=60d"), new SqliteAuditLog(sg)).RunOnceAsync(SafeguardTestData.T0);
        Assert.All(r.Deleted.Values, n => Assert.Equal(0, n));
        Assert.Equal(200, Count(db, "SELECT count(*) FROM posts"));
        Assert.Equal(0, r.BytesBefore);
    }

    [Theory]
    [InlineData("audit=30d", "never")]
    [InlineData("posts", "KIND=DURATION")]
    [InlineData("posts=30", "unit")]
    [InlineData("posts=-1d", "number")]
    [InlineData("tweets=3d", "unknown")]
    public void Bad_policies_are_refused_with_a_reason(string spec, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => RetentionPolicy.Parse(spec));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scheduled_job_runs_repeatedly_until_cancelled()
    {
        var (store, db) = await SeedAsync();
        await using var _ = store;
        await using var sg = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(sg);
        var job = new RetentionJob(store, sg, new RetentionPolicy { Posts = TimeSpan.FromDays(3650), Compact = false }, log);
        using var cts = new CancellationTokenSource();
        var output = new StringWriter();
        var run = job.RunScheduledAsync(TimeSpan.FromMilliseconds(50), TextWriter.Synchronized(output), cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await log.ReadAsync(actionPrefix: AuditActions.RetentionRun)).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the retention job did not run three times within 20 s");
            await Task.Delay(20);
        }
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("retention: posts 0", output.ToString(), StringComparison.Ordinal);
    }
}
