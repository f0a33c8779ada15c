using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>
/// The dashboard's HTTP API against a store filled through <see cref="IPipelineStore.WriteAsync"/>; every store
/// implementation runs the same tests by subclassing.
/// </summary>
public abstract class DashboardApiTestsBase : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
    private DashboardServer? _server;

    protected IPipelineStore Store { get; private set; } = null!;
    protected DashboardFakeLive Live { get; } = new();
    protected HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(20) };
    protected List<DashboardAuditEvent> Audits { get; } = [];

    protected abstract Task<IPipelineStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.WriteAsync(DashboardSeed.Batch());
        _server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0, Audit = e => { lock (Audits) Audits.Add(e); } }, Store, Live,
            CancellationToken.None);
        Http.BaseAddress = _server.Address;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        await Store.DisposeAsync();
    }

    protected async Task<(HttpStatusCode Status, JsonElement Json)> GetJson(string path)
    {
        using var res = await Http.GetAsync(path);
        var body = await res.Content.ReadAsStringAsync();
        Assert.True(res.Content.Headers.ContentType?.MediaType == "application/json", $"{path}: content type {res.Content.Headers.ContentType}, body {body}");
        return (res.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    protected async Task<(HttpStatusCode Status, JsonElement Json)> PostJson(string path, string json, string contentType = "application/json")
    {
        using var content = new StringContent(json, Encoding.UTF8, contentType);
        using var res = await Http.PostAsync(path, content);
        var body = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    [Fact]
    public async Task Server_binds_loopback_on_a_picked_port_and_reports_health()
    {
        Assert.Equal("127.0.0.1", _server!.Address.Host);
        Assert.NotEqual(0, _server.Address.Port);
        var (status, json) = await GetJson("/api/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal("running", json.GetProperty("pipeline").GetString());
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_with_all_stored_alerts()
    {
        var (status, json) = await GetJson("/api/alerts");
        Assert.Equal(HttpStatusCode.OK, status);
        var alerts = json.GetProperty("alerts").EnumerateArray().ToList();
        var counts = await Store.GetCountsAsync();
        Assert.Equal(counts.Alerts, alerts.Count);
        Assert.Equal(alerts.Count, json.GetProperty("count").GetInt32());
        var starts = alerts.Select(a => a.GetProperty("window").GetProperty("start").GetDateTimeOffset()).ToList();
        Assert.Equal(starts.OrderByDescending(s => s), starts);
        var spike = alerts.Single(a => a.GetProperty("id").GetString() == DashboardSeed.RakhineSpike.Id);
        Assert.Equal("high", spike.GetProperty("severity").GetString());
        Assert.Equal("volume_spike", spike.GetProperty("kind").GetString());
        Assert.Equal("Rakhine", spike.GetProperty("scope").GetProperty("region").GetString());
        Assert.Equal("rohingya", spike.GetProperty("scope").GetProperty("target_group").GetString());
        Assert.Equal("new", spike.GetProperty("status").GetString());
        Assert.Equal(3, spike.GetProperty("evidence_posts").GetInt32());
    }

    [Fact]
    public async Task Alert_filters_are_applied()
    {
        var (_, mm) = await GetJson("/api/alerts?country=mm");
        Assert.All(mm.GetProperty("alerts").EnumerateArray(), a => Assert.Equal("MM", a.GetProperty("scope").GetProperty("country").GetString()));
        Assert.Equal(1, mm.GetProperty("count").GetInt32());
        var (_, severe) = await GetJson("/api/alerts?min_severity=high");
        Assert.Equal(2, severe.GetProperty("count").GetInt32());
        var (_, kind) = await GetJson("/api/alerts?kind=incitement");
        Assert.Equal(DashboardSeed.NairobiIncitement.Id, kind.GetProperty("alerts")[0].GetProperty("id").GetString());
        var (_, limited) = await GetJson("/api/alerts?limit=1");
        Assert.Equal(1, limited.GetProperty("count").GetInt32());
        var (_, huge) = await GetJson("/api/alerts?limit=99999999999999");
        Assert.Equal(3, huge.GetProperty("count").GetInt32());
        Assert.Equal(2000, huge.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task One_alert_has_evidence_and_audit_and_unknown_ids_are_404()
    {
        var (status, json) = await GetJson("/api/alerts/" + DashboardSeed.RakhineSpike.Id);
        Assert.Equal(HttpStatusCode.OK, status);
        var ev = json.GetProperty("evidence");
        Assert.Equal(DashboardSeed.RakhineSpike.Evidence.PostIds, ev.GetProperty("post_ids").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, ev.GetProperty("excerpts").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, json.GetProperty("audit").ValueKind);
        var (missing, err) = await GetJson("/api/alerts/al_doesnotexist");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.False(string.IsNullOrEmpty(err.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Status_change_persists_in_the_store_and_grows_the_audit_trail()
    {
        var id = DashboardSeed.RakhineSpike.Id;
        var before = (await Store.GetAlertAsync(id))!.Audit.Count;
        var (status, json) = await PostJson($"/api/alerts/{id}/status", """{"status":"acknowledged","note":"seen by field team"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("acknowledged", json.GetProperty("status").GetString());
        var stored = await Store.GetAlertAsync(id);
        Assert.Equal(AlertStatus.Acknowledged, stored!.Status);
        Assert.Equal(before + 1, stored.Audit.Count);
        var last = stored.Audit[^1];
        Assert.Equal("local", last.Actor);
        Assert.Equal("seen by field team", last.Note);

        (status, _) = await PostJson($"/api/alerts/{id}/status", """{"status":"dismissed","note":"duplicate of another alert"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        stored = await Store.GetAlertAsync(id);
        Assert.Equal(AlertStatus.Dismissed, stored!.Status);
        Assert.Equal(before + 2, stored.Audit.Count);
        var (_, filtered) = await GetJson("/api/alerts?status=dismissed");
        Assert.Equal(id, filtered.GetProperty("alerts").EnumerateArray().Single().GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("""{"status":"closed"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"status":"new"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"note":"no status"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"status":3}""", HttpStatusCode.BadRequest)]
    [InlineData("""["acknowledged"]""", HttpStatusCode.BadRequest)]
    [InlineData("""{"status":"acknowledged" """, HttpStatusCode.BadRequest)]
    [InlineData("not json at all", HttpStatusCode.BadRequest)]
    public async Task Invalid_status_changes_are_400_and_change_nothing(string body, HttpStatusCode expected)
    {
        var id = DashboardSeed.RakhineSpike.Id;
        var (status, json) = await PostJson($"/api/alerts/{id}/status", body);
        Assert.Equal(expected, status);
        Assert.False(string.IsNullOrEmpty(json.GetProperty("error").GetString()));
        var stored = await Store.GetAlertAsync(id);
        Assert.Equal(AlertStatus.New, stored!.Status);
        Assert.Empty(stored.Audit);
    }

    [Fact]
    public async Task Status_change_on_unknown_alert_is_404_and_non_json_is_415()
    {
        var (status, _) = await PostJson("/api/alerts/al_nope/status", """{"status":"escalated"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, _) = await PostJson($"/api/alerts/{DashboardSeed.RakhineSpike.Id}/status", "status=escalated", "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        (status, _) = await PostJson($"/api/alerts/{DashboardSeed.RakhineSpike.Id}/status", "{\"status\":\"escalated\",\"note\":\"" + new string('x', 20_000) + "\"}");
        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, status.ToString());
        Assert.Equal(AlertStatus.New, (await Store.GetAlertAsync(DashboardSeed.RakhineSpike.Id))!.Status);
    }

    [Theory]
    [InlineData("/api/alerts?limit=abc")]
    [InlineData("/api/alerts?limit=0")]
    [InlineData("/api/alerts?limit=-5")]
    [InlineData("/api/alerts?from=yesterday")]
    [InlineData("/api/alerts?from=2026-11-09T00:00:00Z&to=2026-11-08T00:00:00Z")]
    [InlineData("/api/alerts?min_severity=extreme")]
    [InlineData("/api/alerts?kind=rumour")]
    [InlineData("/api/alerts?status=open")]
    [InlineData("/api/alerts?country=Myanmar")]
    [InlineData("/api/alerts?country=M1")]
    [InlineData("/api/alerts?limit=1&limit=2")]
    [InlineData("/api/alerts?region=%01bad")]
    [InlineData("/api/timeline?label=awful")]
    [InlineData("/api/timeline?group_by=planet")]
    [InlineData("/api/timeline?to=2026-13-45")]
    [InlineData("/api/posts/search?q=")]
    [InlineData("/api/posts/search?q=ok&limit=x")]
    [InlineData("/api/deadletters?limit=zero")]
    [InlineData("/api/network/amplifiers?limit=-1")]
    [InlineData("/api/network/ego/u1?depth=deep")]
    public async Task Bad_queries_are_400_with_a_message(string path)
    {
        var (status, json) = await GetJson(path);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Overlong_inputs_are_400()
    {
        var (status, _) = await GetJson("/api/alerts?region=" + new string('r', 500));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await GetJson("/api/posts/search?q=" + new string('q', 201));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await GetJson("/api/posts/" + new string('p', 300));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await GetJson("/api/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Timeline_by_region_gives_total_and_region_series_with_alert_markers()
    {
        var (status, json) = await GetJson("/api/timeline?country=MM&label=hate");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(300, json.GetProperty("bucket_seconds").GetInt32());
        Assert.Equal("region", json.GetProperty("group_by").GetString());
        var series = json.GetProperty("series").EnumerateArray().ToList();
        long Total(string region) => series.Single(s => s.GetProperty("region").GetString() == region).GetProperty("total").GetInt64();
        Assert.Equal(DashboardSeed.HateCount("MM", null, null), Total("*"));
        Assert.Equal(DashboardSeed.HateCount("MM", "Rakhine", null), Total("Rakhine"));
        Assert.Equal(DashboardSeed.HateCount("MM", "Yangon", null), Total("Yangon"));
        Assert.DoesNotContain(series, s => s.GetProperty("country").GetString() == "KE");
        foreach (var s in series)
        {
            var pts = s.GetProperty("points").EnumerateArray().Select(p => (T: p[0].GetInt64(), C: p[1].GetInt64())).ToList();
            Assert.Equal(pts.OrderBy(p => p.T).Select(p => p.T), pts.Select(p => p.T));
            Assert.All(pts, p => Assert.Equal(0, p.T % 300));
            Assert.Equal(s.GetProperty("total").GetInt64(), pts.Sum(p => p.C));
        }
        var markers = json.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("id").GetString()).ToList();
        Assert.Equal([DashboardSeed.RakhineSpike.Id], markers);
        var regions = json.GetProperty("regions").EnumerateArray().Select(r => r.GetProperty("country").GetString() + "/" + r.GetProperty("region").GetString()).ToList();
        Assert.Contains("KE/Nairobi", regions);
        Assert.Contains("MM/Yangon", regions);
    }

    [Fact]
    public async Task Timeline_of_a_region_is_split_by_target_group()
    {
        var (status, json) = await GetJson("/api/timeline?country=MM&region=Rakhine&label=hate");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("target_group", json.GetProperty("group_by").GetString());
        var series = json.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("target_group").GetString()!, s => s.GetProperty("total").GetInt64());
        Assert.Equal(DashboardSeed.HateCount("MM", "Rakhine", "rohingya"), series["rohingya"]);
        Assert.Equal(DashboardSeed.HateCount("MM", "Rakhine", "muslims"), series["muslims"]);
        Assert.Equal(DashboardSeed.HateCount("MM", "Rakhine", null), series["*"]);
        var (_, ranged) = await GetJson("/api/timeline?country=MM&region=Rakhine&label=hate&from=2026-11-08T07:00:00Z&to=2026-11-08T08:00:00Z&group_by=none");
        var only = ranged.GetProperty("series").EnumerateArray().Single();
        Assert.All(only.GetProperty("points").EnumerateArray(), p =>
            Assert.InRange(p[0].GetInt64(), T0.AddHours(1).ToUnixTimeSeconds(), T0.AddHours(2).ToUnixTimeSeconds() - 1));
    }

    [Fact]
    public async Task Search_finds_posts_and_post_by_id_shows_the_decision()
    {
        var (status, json) = await GetJson("/api/posts/search?q=harbour");
        Assert.Equal(HttpStatusCode.OK, status);
        var ids = json.GetProperty("posts").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.Equal(["sim:2", "sim:1"], ids);
        var (_, none) = await GetJson("/api/posts/search?q=zzzqqq");
        Assert.Equal(0, none.GetProperty("count").GetInt32());
        var (_, limited) = await GetJson("/api/posts/search?q=harbour&limit=1");
        Assert.Equal(1, limited.GetProperty("count").GetInt32());

        var (pstatus, post) = await GetJson("/api/posts/sim:1");
        Assert.Equal(HttpStatusCode.OK, pstatus);
        Assert.Equal("p_acc1", post.GetProperty("author").GetString());
        Assert.Equal("hate", post.GetProperty("label").GetString());
        Assert.Equal("rohingya", post.GetProperty("target").GetString());
        Assert.Equal(0.8f, post.GetProperty("scores").GetProperty("hate").GetSingle(), 3);
        var (missing, _) = await GetJson("/api/posts/sim:999");
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task Dead_letters_show_reason_size_and_original_bytes_and_the_raw_view_is_audited()
    {
        using var res = await Http.GetAsync("/api/deadletters");
        var text = await res.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var list = JsonDocument.Parse(text).RootElement.GetProperty("dead_letters").EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        var bad = list.Single(d => d.GetProperty("reason").GetString() == DeadLetterReasons.InvalidJson);
        Assert.Equal(DashboardSeed.DeadBytes.Length, bad.GetProperty("size").GetInt32());
        Assert.Equal(7, bad.GetProperty("offset").GetInt64());
        Assert.Equal("replay:test.jsonl", bad.GetProperty("source").GetString());
        // Stored unsealed (written directly, not by the pipeline): shown as stored, to the analyst-or-above caller.
        Assert.False(bad.GetProperty("encrypted").GetBoolean());
        Assert.Equal(DashboardSeed.DeadBytes, bad.GetProperty("bytes").GetBytesFromBase64());
        Assert.False(bad.GetProperty("truncated").GetBoolean());
        lock (Audits) Assert.Contains(Audits, e => e.Action == "view_dead_letters" && e.Actor == "local" && e.Target.StartsWith("2 dead letters", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Feedback_is_stored_and_bad_feedback_is_refused()
    {
        var (status, json) = await PostJson("/api/feedback", """{"post_id":"sim:3","label":"hate","note":"missed slur"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("local", json.GetProperty("actor").GetString());
        var stored = await Store.GetFeedbackAsync();
        var f = Assert.Single(stored);
        Assert.Equal(("sim:3", "hate", "local", "missed slur"), (f.PostId, f.Label, f.Actor, f.Note));

        (status, _) = await PostJson("/api/feedback", """{"post_id":"sim:3","label":"terrible"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await PostJson("/api/feedback", """{"label":"none"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, _) = await PostJson("/api/feedback", """{"post_id":"sim:404","label":"none"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Single(await Store.GetFeedbackAsync());
    }

    [Fact]
    public async Task Stats_combine_store_counts_and_live_status()
    {
        var (status, json) = await GetJson("/api/stats");
        Assert.Equal(HttpStatusCode.OK, status);
        var counts = await Store.GetCountsAsync();
        var st = json.GetProperty("store");
        Assert.Equal(counts.Posts, st.GetProperty("posts").GetInt64());
        Assert.Equal(counts.FlaggedPosts, st.GetProperty("flagged_posts").GetInt64());
        Assert.Equal(counts.Alerts, st.GetProperty("alerts").GetInt64());
        Assert.Equal(counts.DeadLetters, st.GetProperty("dead_letters").GetInt64());
        var p = json.GetProperty("pipeline");
        Assert.Equal("running", p.GetProperty("state").GetString());
        Assert.Equal(1234, p.GetProperty("posts_read").GetInt64());
        Assert.Equal(12, p.GetProperty("queue_depths").GetProperty("classify").GetInt32());
        Assert.Equal(0.96, p.GetProperty("stage_busy").GetProperty("network").GetDouble());
        Assert.Equal(T0.AddHours(3), p.GetProperty("watermark").GetDateTimeOffset());
    }

    [Fact]
    public async Task Network_views_come_from_the_live_pipeline()
    {
        var (_, amp) = await GetJson("/api/network/amplifiers?limit=1");
        Assert.Equal("p_acc1", amp.GetProperty("amplifiers").EnumerateArray().Single().GetProperty("account").GetString());
        var (_, cl) = await GetJson("/api/network/clusters");
        Assert.True(cl.GetProperty("clusters")[0].GetProperty("coordinated").GetBoolean());
        var (status, ego) = await GetJson("/api/network/ego/p_acc1?depth=9&max_nodes=100000");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((3, 500), Live.LastEgoRequest);
        Assert.Equal("p_acc1", ego.GetProperty("center").GetString());
        Assert.Equal(3, ego.GetProperty("nodes").GetArrayLength());
        Assert.Equal("mention", ego.GetProperty("edges")[0].GetProperty("kind").GetString());
        var (missing, _) = await GetJson("/api/network/ego/p_unknown");
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task Requests_with_a_foreign_host_name_are_refused()
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/api/alerts");
        req.Headers.Host = "attacker.example";
        using var res = await Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        using var ok = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        ok.Headers.Host = "localhost:" + _server!.Address.Port;
        using var okRes = await Http.SendAsync(ok);
        Assert.Equal(HttpStatusCode.OK, okRes.StatusCode);
    }
}

/// <summary>The API tests on the in-memory fake store.</summary>
public sealed class DashboardApiInMemoryTests : DashboardApiTestsBase
{
    protected override Task<IPipelineStore> CreateStoreAsync() => Task.FromResult<IPipelineStore>(new DashboardFakeStore());
}

/// <summary>The same API tests on the real SQLite store.</summary>
public sealed class DashboardApiSqliteTests : DashboardApiTestsBase
{
    private readonly string _dir = TestPaths.NewTempDir("ew-dash");

    protected override async Task<IPipelineStore> CreateStoreAsync() => await SqliteStore.OpenAsync(Path.Combine(_dir, "earlywarning.db"));
}

/// <summary>Live views for the tests: a running pipeline with a small network.</summary>
public sealed class DashboardFakeLive : IDashboardLive
{
    public (int Depth, int MaxNodes) LastEgoRequest { get; private set; }

    public PipelineStatus GetStatus() => new()
    {
        State = "running", Source = "simulate:election-day", PostsRead = 1234, PostsPerSecond = 410.5, PostsStored = 1200,
        QueueDepths = new Dictionary<string, int> { ["classify"] = 12, ["store"] = 3 },
        StageBusy = new Dictionary<string, double> { ["network"] = 0.96, ["store"] = 0.3 },
        Watermark = new DateTimeOffset(2026, 11, 8, 9, 0, 0, TimeSpan.Zero),
    };

    public IReadOnlyList<Scope> GetSeriesScopes() =>
    [
        new("MM", "Rakhine", "rohingya"), new("MM", "Rakhine", "muslims"), new("MM", "Yangon", "rohingya"), new("KE", "Nairobi", "kikuyu"),
    ];

    public IReadOnlyList<AmplifierView> GetAmplifiers(int limit) =>
        new List<AmplifierView> { new("p_acc1", 0.4, 30, 12, 50_000, 40, "c1"), new("p_acc2", 0.2, 10, 2, 900, 5, null) }.Take(limit).ToList();

    public IReadOnlyList<ClusterView> GetClusters(int limit) => [new("c1", 12, ["p_acc1", "p_acc3"], 40, true, 0.9)];

    public EgoNetworkView? GetEgoNetwork(string account, int depth, int maxNodes)
    {
        LastEgoRequest = (depth, maxNodes);
        if (account != "p_acc1") return null;
        return new EgoNetworkView(account,
            [new("p_acc1", 0, 0.4, 12, "c1"), new("p_acc2", 1, 0.2, 2, null), new("p_acc3", 2, 0.1, 1, "c1")],
            [new("p_acc2", "p_acc1", "mention", 3), new("p_acc3", "p_acc2", "repost", 1)]);
    }
}

/// <summary>The stored data every dashboard test starts from (synthetic, harmless texts).</summary>
internal static class DashboardSeed
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
    public static readonly byte[] DeadBytes = Encoding.UTF8.GetBytes("{\"id\": broken json");

    // Properties, not fields: each test's store gets its own alert objects (stores may keep and mutate them).
    public static Alert RakhineSpike => MakeAlert(AlertKinds.VolumeSpike, new Scope("MM", "Rakhine", "rohingya", "my"), T0.AddHours(1), Severity.High);
    public static Alert NairobiIncitement => MakeAlert(AlertKinds.Incitement, new Scope("KE", "Nairobi", "kikuyu", "sw"), T0.AddHours(2), Severity.Critical);
    public static Alert NorthernDrop => MakeAlert(AlertKinds.VolumeDrop, new Scope("LK", "Northern"), T0, Severity.Low);

    // (country, region, target, label, bucket index from T0, count)
    private static readonly (string C, string R, string T, string L, int B, long N)[] Aggregates =
    [
        ("MM", "Rakhine", "rohingya", "hate", 0, 2), ("MM", "Rakhine", "rohingya", "hate", 12, 9), ("MM", "Rakhine", "rohingya", "hate", 13, 15),
        ("MM", "Rakhine", "muslims", "hate", 12, 4), ("MM", "Rakhine", "rohingya", "none", 12, 50),
        ("MM", "Yangon", "rohingya", "hate", 3, 1), ("MM", "Yangon", "rohingya", "hate", 12, 2),
        ("KE", "Nairobi", "kikuyu", "hate", 24, 7),
    ];

    public static long HateCount(string country, string? region, string? target) =>
        Aggregates.Where(a => a.L == "hate" && a.C == country && (region is null || a.R == region) && (target is null || a.T == target)).Sum(a => a.N);

    public static StoreBatch Batch()
    {
        var b = new StoreBatch();
        b.Posts.Add(Post("sim:1", 70, "p_acc1", "the harbour market was quiet this morning", "MM", "Rakhine", Labels.Hate, "rohingya"));
        b.Posts.Add(Post("sim:2", 75, "p_acc2", "boats are back at the harbour before polling", "MM", "Rakhine", Labels.None, null));
        b.Posts.Add(Post("sim:3", 80, "p_acc3", "long queue at the polling station in Yangon", "MM", "Yangon", Labels.Offensive, null));
        b.Posts.Add(Post("sim:4", 130, "p_acc4", "rain expected in Nairobi tonight", "KE", "Nairobi", Labels.None, null));
        b.Alerts.AddRange([RakhineSpike, NairobiIncitement, NorthernDrop]);
        foreach (var a in Aggregates) b.Aggregates.Add(new SeriesPoint(T0.AddMinutes(5 * a.B), a.C, a.R, a.T, a.L, a.N));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("replay:test.jsonl", 7), DeadLetterReasons.InvalidJson, DeadBytes, T0));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("replay:test.jsonl", 9), DeadLetterReasons.MissingField("id"), new byte[] { 0x7b, 0x7d }, T0.AddSeconds(1)));
        b.Checkpoints["replay:test.jsonl"] = 9;
        return b;
    }

    private static PostEnvelope Post(string id, int minutes, string author, string text, string country, string region, string label, string? target)
    {
        var post = new Post
        {
            Id = id, CreatedAt = T0.AddMinutes(minutes), AuthorId = author, Text = text, Lang = "en", Country = country, Region = region,
            Raw = Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\"}}"),
        };
        var scores = label switch { Labels.Hate => new[] { 0.1f, 0.1f, 0.8f }, Labels.Offensive => [0.2f, 0.7f, 0.1f], _ => [0.9f, 0.05f, 0.05f] };
        return new PostEnvelope
        {
            Post = post,
            Position = new SourcePosition("replay:test.jsonl", minutes),
            Decision = new Decision { PostId = id, Label = label, Scores = scores, Target = target, Model = "test-model@1", Explanation = { "w:harbour" } },
        };
    }

    private static Alert MakeAlert(string kind, Scope scope, DateTimeOffset start, Severity severity) => new()
    {
        Id = Alert.MakeId(kind, scope, start), Kind = kind, Severity = severity, Score = 5.5, WindowStart = start, WindowEnd = start.AddMinutes(15),
        DetectedAt = start.AddMinutes(5), Scope = scope, Baseline = 2, Observed = 24,
        Evidence = new Evidence { PostIds = ["sim:1", "sim:2", "sim:3"], TopTerms = ["harbour"], Accounts = ["p_acc1"], Excerpts = ["excerpt one", "excerpt two"] },
        Explanation = "More posts than usual in this region.", Model = "test-model@1",
    };
}
