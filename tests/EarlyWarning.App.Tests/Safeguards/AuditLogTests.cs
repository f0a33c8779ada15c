using EarlyWarning.App.Http;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.App.Tests.Safeguards;

public sealed class AuditLogTests
{
    private static async Task<(SqliteSafeguardStore Store, SqliteAuditLog Log, string Db)> OpenAsync(int entries)
    {
        var (_, db) = SafeguardTestData.NewStorePath();
        var store = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(store);
        for (var i = 0; i < entries; i++)
            await log.AppendAsync("analyst" + (i % 3), i % 2 == 0 ? AuditActions.ViewPost : "alert_status:acknowledged", "sim:" + i, i % 4 == 0 ? null : "n" + i);
        return (store, log, db);
    }

    private static void Tamper(string db, string sql)
    {
        // An attacker with file access can drop the triggers; the hash chain still shows the change.
        using var conn = new SqliteConnection($"Data Source={db};Pooling=false");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "DROP TRIGGER safeguard_audit_no_update; DROP TRIGGER safeguard_audit_no_delete; " + sql;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public async Task Entries_are_chained_and_verify()
    {
        var (store, log, _) = await OpenAsync(20);
        await using var _s = store;
        var all = await log.ReadAsync();
        Assert.Equal(20, all.Count);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), all.Select(e => e.Seq));
        for (var i = 1; i < all.Count; i++) Assert.Equal(all[i - 1].Hash, all[i].PrevHash);
        Assert.All(all, e => Assert.Equal(64, e.Hash.Length));
        var v = await log.VerifyAsync();
        Assert.True(v.Valid, v.Problem);
        Assert.Equal(20, v.Entries);
        Assert.Equal(all[^1].Hash, v.HeadHash);
        Assert.Equal(10, (await log.ReadAsync(actionPrefix: "alert_status:")).Count);
    }

    [Fact]
    public async Task Update_and_delete_are_refused_by_the_database()
    {
        var (store, _, db) = await OpenAsync(3);
        await using var _s = store;
        using var conn = new SqliteConnection($"Data Source={db};Pooling=false");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "UPDATE safeguard_audit SET actor = 'someone' WHERE seq = 2;";
        Assert.Contains("append-only", Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery()).Message, StringComparison.Ordinal);
        cmd.CommandText = "DELETE FROM safeguard_audit WHERE seq = 2;";
        Assert.Contains("append-only", Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_entry_is_detected()
    {
        var (store, log, db) = await OpenAsync(10);
        await using var _s = store;
        Tamper(db, "UPDATE safeguard_audit SET actor = 'nobody' WHERE seq = 6;");
        var v = await log.VerifyAsync();
        Assert.False(v.Valid);
        Assert.Equal(6, v.FirstBadSeq);
        Assert.Contains("changed", v.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removed_entry_is_detected()
    {
        var (store, log, db) = await OpenAsync(10);
        await using var _s = store;
        Tamper(db, "DELETE FROM safeguard_audit WHERE seq = 4;");
        var v = await log.VerifyAsync();
        Assert.False(v.Valid);
        Assert.Equal(5, v.FirstBadSeq);
    }

    [Fact]
    public async Task A_rewritten_chain_tail_is_detected_unless_every_later_hash_is_recomputed()
    {
        // Changing an entry and fixing its own hash still breaks the next entry's link.
        var (store, log, db) = await OpenAsync(5);
        await using var _s = store;
        var e3 = (await log.ReadAsync())[2];
        var forged = SqliteSafeguardStore.AuditHash(e3.PrevHash, e3.Seq, e3.At, "nobody", e3.Action, e3.Target, e3.Note);
        Tamper(db, $"UPDATE safeguard_audit SET actor = 'nobody', hash = '{forged}' WHERE seq = 3;");
        var v = await log.VerifyAsync();
        Assert.False(v.Valid);
        Assert.Equal(4, v.FirstBadSeq);
    }

    [Fact]
    public async Task Export_is_jsonl_and_verifies_offline_and_detects_edits()
    {
        var (store, log, _) = await OpenAsync(12);
        await using var _s = store;
        var sw = new StringWriter();
        Assert.Equal(12, await log.ExportJsonlAsync(sw));
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Length);
        Assert.All(lines, l => System.Text.Json.JsonDocument.Parse(l).Dispose());
        var ok = AuditJsonl.Verify(new StringReader(sw.ToString()));
        Assert.True(ok.Valid, ok.Problem);
        Assert.Equal(12, ok.Entries);
        var edited = sw.ToString().Replace("\"target\":\"sim:7\"", "\"target\":\"sim:8\"", StringComparison.Ordinal);
        Assert.NotEqual(sw.ToString(), edited);
        var bad = AuditJsonl.Verify(new StringReader(edited));
        Assert.False(bad.Valid);
        Assert.Equal(8, bad.FirstBadSeq);
        var garbage = AuditJsonl.Verify(new StringReader(lines[0] + "\n{not json\n"));
        Assert.False(garbage.Valid);
        Assert.Contains("line 2", garbage.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_appends_keep_one_linear_chain()
    {
        var (_, db) = SafeguardTestData.NewStorePath();
        await using var a = new SqliteSafeguardStore(db);
        await using var b = new SqliteSafeguardStore(db);
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var s = i % 2 == 0 ? a : b;
            for (var j = 0; j < 25; j++) await s.AppendAuditAsync("w" + i, "config_change", "k" + j, null);
        }));
        await Task.WhenAll(tasks);
        var v = await a.VerifyAuditAsync();
        Assert.True(v.Valid, v.Problem);
        Assert.Equal(200, v.Entries);
    }

    [Fact]
    public async Task Dashboard_views_and_alert_decisions_are_audited()
    {
        var (_, db) = SafeguardTestData.NewStorePath();
        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        var t = SafeguardTestData.T0;
        var alert = SafeguardTestData.Alert(AlertKinds.VolumeSpike, t, t.AddMinutes(15));
        await SafeguardTestData.WriteAsync(store, [SafeguardTestData.Post("sim:1", t, "hello world")], [alert]);
        await using var sg = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(sg);
        var errors = new StringWriter();
        var options = new DashboardOptions
        {
            Port = 0,
            ApiKeys = [new DashboardApiKey("k-analyst-0123456789", "ana", DashboardRole.Analyst)],
            Audit = log.DashboardSink(errors),
        };
        await using var server = await DashboardServer.StartAsync(options, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        http.DefaultRequestHeaders.Add("X-Api-Key", "k-analyst-0123456789");
        (await http.GetAsync(new Uri("api/posts/sim:1", UriKind.Relative))).EnsureSuccessStatusCode();
        (await http.GetAsync(new Uri("api/posts/search?q=hello", UriKind.Relative))).EnsureSuccessStatusCode();
        using var body = new StringContent("{\"status\":\"escalated\",\"note\":\"call partner\"}", System.Text.Encoding.UTF8, "application/json");
        (await http.PostAsync(new Uri($"api/alerts/{alert.Id}/status", UriKind.Relative), body)).EnsureSuccessStatusCode();

        var entries = await log.ReadAsync();
        Assert.Equal("", errors.ToString());
        Assert.Contains(entries, e => e.Action == AuditActions.ViewPost && e.Target == "sim:1" && e.Actor == "ana");
        Assert.Contains(entries, e => e.Action == AuditActions.SearchPosts && e.Actor == "ana");
        Assert.Contains(entries, e => e.Action == "alert_status:escalated" && e.Target == alert.Id && e.Actor == "ana");
        Assert.True((await log.VerifyAsync()).Valid);
    }
}
