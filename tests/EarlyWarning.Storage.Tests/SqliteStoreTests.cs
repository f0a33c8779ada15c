using System.Diagnostics;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace EarlyWarning.Storage.Tests;

/// <summary>The conformance suite on a real SQLite file, plus what only SQLite promises (WAL, schema, retention).</summary>
public class SqliteStoreTests(ITestOutputHelper output) : StoreConformanceTests, IDisposable
{
    private readonly List<string> _dirs = [];

    /// <summary>Run the suite with search on the LIKE fallback instead of FTS5.</summary>
    protected virtual bool WithoutFts => false;

    protected string NewDbPath()
    {
        var dir = TestPaths.NewTempDir("ew-sqlite");
        _dirs.Add(dir);
        return Path.Combine(dir, "data", "earlywarning.db");
    }

    protected async Task<SqliteStore> OpenAsync(string path)
    {
        var store = new SqliteStore(path) { DisableFts = WithoutFts };
        await store.InitializeAsync();
        Assert.Equal(!WithoutFts, store.FullTextSearch);
        return store;
    }

    protected override async Task<IPipelineStore> CreateStoreAsync() => await OpenAsync(NewDbPath());

    protected override async Task<IPipelineStore> ReopenAsync(IPipelineStore store)
    {
        var path = ((SqliteStore)store).Path;
        await store.DisposeAsync();
        return await OpenAsync(path);
    }

    public void Dispose()
    {
        foreach (var d in _dirs)
        {
            try { Directory.Delete(d, recursive: true); }
            catch (IOException) { /* best effort */ }
        }
        GC.SuppressFinalize(this);
    }

    private static SqliteConnection Raw(string path)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    private static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    [Fact]
    public async Task The_file_is_in_WAL_mode()
    {
        var path = NewDbPath();
        var store = await OpenAsync(path);
        Assert.Equal("wal", store.JournalMode);
        await store.WriteAsync(MakeMixedBatch());
        Assert.True(File.Exists(path + "-wal"), "no -wal file beside the database while it is open");
        using (var c = Raw(path))
            Assert.Equal("wal", Scalar(c, "PRAGMA journal_mode;"));
        await store.DisposeAsync();

        // WAL is persistent: the file header's read/write version bytes (offsets 18, 19) are 2 for WAL.
        var header = new byte[20];
        await using (var f = File.OpenRead(path))
            await f.ReadExactlyAsync(header);
        Assert.Equal("SQLite format 3\0"u8.ToArray(), header[..16]);
        Assert.Equal((byte)2, header[18]);
        Assert.Equal((byte)2, header[19]);
    }

    [Fact]
    public async Task Columns_are_readable_with_plain_SQL()
    {
        var path = NewDbPath();
        await using var store = await OpenAsync(path);
        var b = new StoreBatch();
        b.Posts.Add(MakePost(61, label: Labels.Hate));
        b.Alerts.Add(MakeAlert());
        await store.WriteAsync(b);
        using var c = Raw(path);
        Assert.Equal("2026-11-08T06:01:01.000Z", Scalar(c, "SELECT created_at_text FROM posts WHERE id = 't:61';"));
        Assert.Equal(1L, Scalar(c, "SELECT json_extract(raw, '$.extra.k') FROM posts WHERE id = 't:61';"));
        Assert.Equal(0.7, (double)Scalar(c, "SELECT json_extract(scores, '$[2]') FROM decisions WHERE post_id = 't:61';")!, 3);
        Assert.Equal("w:river", Scalar(c, "SELECT json_extract(explanation, '$[0]') FROM decisions WHERE post_id = 't:61';"));
        Assert.Equal("market", Scalar(c, "SELECT json_extract(evidence, '$.top_terms[0]') FROM alerts;"));
        Assert.Equal(("medium", 1L), ((string)Scalar(c, "SELECT severity FROM alerts;")!, (long)Scalar(c, "SELECT severity_level FROM alerts;")!));
    }

    [Fact]
    public async Task Schema_is_versioned_and_a_newer_file_is_refused()
    {
        var path = NewDbPath();
        await (await OpenAsync(path)).DisposeAsync();
        await (await OpenAsync(path)).DisposeAsync(); // opening twice migrates nothing twice
        using (var c = Raw(path))
        {
            Assert.Equal(1L, Scalar(c, "PRAGMA user_version;"));
            Assert.Equal(1L, Scalar(c, "SELECT count(*) FROM schema_version WHERE version = 1;"));
            Assert.Equal(1L, Scalar(c, "SELECT count(*) FROM schema_version;"));
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => OpenAsync(path));
        Assert.Contains("99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_trail_is_append_only()
    {
        var path = NewDbPath();
        await using var store = await OpenAsync(path);
        var b = new StoreBatch();
        b.Alerts.Add(MakeAlert());
        await store.WriteAsync(b);
        Assert.True(await store.UpdateAlertStatusAsync(MakeAlert().Id, AlertStatus.Acknowledged, "analyst-1", null));
        using var c = Raw(path);
        Assert.Throws<SqliteException>(() => Scalar(c, "UPDATE alert_audit SET actor = 'someone else';"));
        Assert.Throws<SqliteException>(() => Scalar(c, "DELETE FROM alert_audit;"));
        Assert.Equal("analyst-1", Assert.Single((await store.GetAlertAsync(MakeAlert().Id))!.Audit).Actor);
    }

    [Fact]
    public async Task Dead_letters_without_a_position_are_never_merged()
    {
        await using var store = await OpenAsync(NewDbPath());
        var b = new StoreBatch();
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("http:reports", -1), DeadLetterReasons.InvalidJson, new byte[] { 1 }, T0));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("http:reports", -1), DeadLetterReasons.TooLarge, new byte[] { 2 }, T0));
        await store.WriteAsync(b);
        var letters = await store.GetDeadLettersAsync(10);
        Assert.Equal(2, letters.Count);
        Assert.All(letters, l => Assert.Equal(-1, l.Offset));
    }

    [Fact]
    public async Task A_bad_batch_is_rejected_whole_with_a_reason()
    {
        await using var store = await OpenAsync(NewDbPath());
        var b = MakeMixedBatch();
        b.Alerts.Add(new Alert
        {
            Id = "al_bad",
            Kind = AlertKinds.VolumeSpike,
            Severity = Severity.Low,
            WindowStart = T0,
            WindowEnd = T0,
            Scope = new Scope(),
            Explanation = "x",
            Status = "closed",
        });
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync(b));
        Assert.Contains("al_bad", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new StoreCounts(0, 0, 0, 0, 0), await store.GetCountsAsync());
        Assert.Null(await store.GetCheckpointAsync("test:src"));
    }

    [Fact]
    public async Task A_cancelled_write_stores_nothing()
    {
        await using var store = await OpenAsync(NewDbPath());
        var b = new StoreBatch();
        for (var i = 0; i < 3000; i++) b.Posts.Add(MakePost(i));
        b.Checkpoints["test:src"] = 2999;
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WriteAsync(b, cts.Token));
        Assert.Equal(0, (await store.GetCountsAsync()).Posts);
        await store.WriteAsync(b);
        Assert.Equal(3000, (await store.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Status_updates_and_batch_writes_from_many_tasks_all_land()
    {
        await using var store = await OpenAsync(NewDbPath());
        var b = new StoreBatch();
        for (var m = 0; m < 5; m++) b.Alerts.Add(MakeAlert(startMinutes: m * 10));
        await store.WriteAsync(b);
        var ids = b.Alerts.Select(a => a.Id).ToArray();

        var updates = Enumerable.Range(0, 100).Select(i => Task.Run(() =>
            store.UpdateAlertStatusAsync(ids[i % ids.Length], i % 2 == 0 ? AlertStatus.Acknowledged : AlertStatus.Escalated, "analyst-" + i, null)));
        var writes = Enumerable.Range(0, 20).Select(k => Task.Run(async () =>
        {
            var batch = new StoreBatch();
            for (var i = 0; i < 100; i++) batch.Posts.Add(MakePost(k * 100 + i));
            foreach (var a in b.Alerts) batch.Alerts.Add(a); // re-detections of the same alerts must not touch status/audit
            await store.WriteAsync(batch);
            return true;
        }));
        var results = await Task.WhenAll(updates.Concat(writes));
        Assert.All(results, Assert.True);

        var alerts = await store.GetAlertsAsync(new AlertQuery());
        Assert.Equal(100, alerts.Sum(a => a.Audit.Count));
        Assert.All(alerts, a => Assert.Equal(20, a.Audit.Count));
        Assert.All(alerts, a => Assert.Equal(a.Audit[^1].Action, a.Status)); // status is the last audited action
        Assert.Equal(2000, (await store.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Maintenance_keeps_search_and_data_intact()
    {
        await using var store = await OpenAsync(NewDbPath());
        for (var k = 0; k < 5; k++)
        {
            var b = new StoreBatch();
            for (var i = 0; i < 200; i++) b.Posts.Add(MakePost(k * 200 + i));
            await store.WriteAsync(b);
        }
        var before = await store.SearchPostsAsync("lantern", 1000);
        await store.MaintainAsync();
        var after = await store.SearchPostsAsync("lantern", 1000);
        Assert.Equal(before.Select(p => p.Id), after.Select(p => p.Id));
        Assert.Equal(190, after.Count); // word 4 leads 100 posts and follows in 100 (10 overlap)
    }

    [Fact]
    public async Task Opening_an_existing_store_takes_no_write_lock()
    {
        // Another process (the running pipeline) may hold the write lock while a second one opens the file to look.
        var path = NewDbPath();
        await using (var first = await OpenAsync(path))
            await first.WriteAsync(MakeMixedBatch());
        using var holder = Raw(path);
        using var tx = holder.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: holds the write lock
        // A dedicated thread, so a busy thread pool (other tests) cannot be mistaken for a lock wait.
        var open = Task.Factory.StartNew(() =>
        {
            var second = OpenAsync(path).GetAwaiter().GetResult();
            try { return second.GetCountsAsync().GetAwaiter().GetResult(); }
            finally { second.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await open.WaitAsync(TimeSpan.FromSeconds(20)); // TimeoutException if opening waited for the lock
        Assert.Equal(100, (await open).Posts);
    }

    [Fact]
    public async Task Retention_deletes_old_rows_and_keeps_search_in_step()
    {
        await using var store = await OpenAsync(NewDbPath());
        var b = new StoreBatch();
        for (var i = 0; i < 100; i++) b.Posts.Add(MakePost(i, label: i % 5 == 0 ? Labels.Hate : Labels.None)); // created T0 + i s
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("s", 1), DeadLetterReasons.InvalidJson, new byte[] { 1 }, T0));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("s", 2), DeadLetterReasons.InvalidJson, new byte[] { 1 }, T0.AddDays(2)));
        b.Aggregates.Add(new SeriesPoint(T0, "MM", "Rakhine", "rohingya", Labels.Hate, 3));
        b.Aggregates.Add(new SeriesPoint(T0.AddHours(1), "MM", "Rakhine", "rohingya", Labels.Hate, 4));
        b.Alerts.Add(MakeAlert());
        await store.WriteAsync(b);

        Assert.Equal(50, await store.DeleteOlderThanAsync(RetentionKinds.Posts, T0.AddSeconds(50)));
        Assert.Equal(1, await store.DeleteOlderThanAsync(RetentionKinds.DeadLetters, T0.AddDays(1)));
        Assert.Equal(1, await store.DeleteOlderThanAsync(RetentionKinds.Aggregates, T0.AddMinutes(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteOlderThanAsync("alerts", T0));

        Assert.Equal(new StoreCounts(50, 10, 1, 1, 0), await store.GetCountsAsync());
        Assert.Null(await store.GetPostAsync("t:2"));
        Assert.NotNull(await store.GetPostAsync("t:52"));
        var harvest = await store.SearchPostsAsync("harvest", 100);
        Assert.Equal(5, harvest.Count); // t:52, 62, 72, 82, 92 remain
        Assert.All(harvest, p => Assert.True(int.Parse(p.Id[2..], System.Globalization.CultureInfo.InvariantCulture) >= 50));
        Assert.Equal(4L, Assert.Single(await store.GetTimelineAsync(new TimelineQuery())).Count);
        if (!WithoutFts)
        {
            using var c = Raw(store.Path);
            Assert.Equal(0L, Scalar(c, "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'harvest' AND rowid NOT IN (SELECT pk FROM posts);"));
            Scalar(c, "INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1);"); // throws if the index disagrees
        }
    }

    [Fact]
    public async Task Search_index_is_rebuilt_when_FTS5_becomes_available()
    {
        if (WithoutFts) return;
        var path = NewDbPath();
        await using (var plain = new SqliteStore(path) { DisableFts = true })
        {
            await plain.InitializeAsync();
            var b = new StoreBatch();
            b.Posts.Add(MakePost(1, "lantern by the bridge"));
            await plain.WriteAsync(b);
            Assert.Single(await plain.SearchPostsAsync("lantern", 5));
        }
        await using var store = await OpenAsync(path);
        Assert.True(store.FullTextSearch);
        Assert.Equal("t:1", Assert.Single(await store.SearchPostsAsync("lantern", 5)).Id);
    }

    /// <summary>A post-length (about 20 words, 8,000-word vocabulary) neutral text made of pseudo-words.</summary>
    private static string PseudoText(Random rng)
    {
        string[] syllables = ["ka", "ri", "mo", "tu", "le", "sa", "po", "ni", "de", "ba", "go", "mi", "ra", "ve", "zo", "lu", "pe", "ta", "ki", "no"];
        var sb = new System.Text.StringBuilder();
        for (var w = 0; w < 20; w++)
        {
            if (w > 0) sb.Append(' ');
            for (var k = 0; k < 3; k++) sb.Append(syllables[rng.Next(syllables.Length)]);
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Throughput_of_5000_post_batches()
    {
        await using var store = await OpenAsync(NewDbPath());
        const int batches = 11, perBatch = 5000;
        var rng = new Random(7);
        var prepared = new List<StoreBatch>();
        for (var k = 0; k < batches; k++)
        {
            var b = new StoreBatch();
            for (var i = 0; i < perBatch; i++)
            {
                var n = k * perBatch + i;
                b.Posts.Add(MakePost(n, PseudoText(rng), label: n % 5 == 0 ? Labels.Hate : Labels.None));
            }
            b.Checkpoints["test:src"] = (k + 1) * perBatch - 1;
            prepared.Add(b);
        }
        await store.WriteAsync(prepared[0]); // warm-up (JIT), not timed
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (var k = 1; k < batches; k++) await store.WriteAsync(prepared[k]);
        sw.Stop();
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        const int timed = (batches - 1) * perBatch;
        output.WriteLine($"SQLite ({(WithoutFts ? "no FTS" : "FTS5")}): {timed} posts+decisions in {sw.Elapsed.TotalMilliseconds:F0} ms wall " +
            $"= {timed / sw.Elapsed.TotalSeconds:F0} posts/s; process CPU {cpuUsed.TotalMilliseconds:F0} ms = {timed / cpuUsed.TotalSeconds:F0} posts/CPU-s");
        Assert.Equal(batches * perBatch, (await store.GetCountsAsync()).Posts);

        // Replaying the same batches is a no-op for posts; measured too, since restarts replay.
        sw.Restart();
        for (var k = 1; k < batches; k++) await store.WriteAsync(prepared[k]);
        output.WriteLine($"replay of the same batches: {timed / sw.Elapsed.TotalSeconds:F0} posts/s");
        Assert.Equal(batches * perBatch, (await store.GetCountsAsync()).Posts);
    }
}

/// <summary>The same suite with search on the LIKE fallback (as when SQLite lacks FTS5).</summary>
public sealed class SqliteStoreWithoutFtsTests(ITestOutputHelper output) : SqliteStoreTests(output)
{
    protected override bool WithoutFts => true;
}
