using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Integration.Tests;

/// <summary>The dashboard server's static files, binding rules and API-key roles.</summary>
public sealed class DashboardServerTests
{
    [Fact]
    public async Task Static_dashboard_is_served_from_the_default_web_root_with_correct_types()
    {
        // The default WebRoot is beside the executable; the App build copies dashboards/web there.
        await using var store = new DashboardFakeStore();
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0 }, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };

        using var index = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("id=\"alert-count\"", html, StringComparison.Ordinal);
        Assert.Contains("src=\"app.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        using var js = await http.GetAsync("/app.js");
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        var script = await js.Content.ReadAsStringAsync();
        // Post texts come from the public: the page must never parse data as HTML.
        Assert.DoesNotContain(".innerHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("insertAdjacentHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("document.write", script, StringComparison.Ordinal);
        Assert.Contains("data-action", script, StringComparison.Ordinal);

        using var css = await http.GetAsync("/app.css");
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        using var missing = await http.GetAsync("/nope.html");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // Pages stay small for phones on poor connections.
        Assert.True(html.Length + script.Length + (await css.Content.ReadAsStringAsync()).Length < 80_000);
    }

    [Fact]
    public async Task Missing_web_root_still_serves_the_api()
    {
        await using var store = new DashboardFakeStore();
        var options = new DashboardOptions { Port = 0, WebRoot = Path.Combine(Path.GetTempPath(), "ew-no-such-" + Guid.NewGuid().ToString("N")) };
        await using var server = await DashboardServer.StartAsync(options, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var root = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, root.StatusCode);
        using var health = await http.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"idle\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public async Task Refuses_a_non_loopback_host_without_api_keys(string host)
    {
        await using var store = new DashboardFakeStore();
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            DashboardServer.StartAsync(new DashboardOptions { Host = host, Port = 0 }, store, NullDashboardLive.Instance, CancellationToken.None));
    }

    [Fact]
    public async Task Refuses_a_host_name_it_cannot_bind_literally()
    {
        await using var store = new DashboardFakeStore();
        await Assert.ThrowsAsync<ArgumentException>(() =>
            DashboardServer.StartAsync(new DashboardOptions { Host = "example.org", Port = 0 }, store, NullDashboardLive.Instance, CancellationToken.None));
    }

    [Fact]
    public async Task Api_keys_gate_reads_and_writes_by_role_and_name_the_actor()
    {
        await using var store = new DashboardFakeStore();
        await store.WriteAsync(DashboardSeed.Batch());
        var audits = new List<DashboardAuditEvent>();
        var options = new DashboardOptions
        {
            Port = 0,
            ApiKeys = [new("viewer-key-123", "viewer1", DashboardRole.Viewer), new("analyst-key-456", "analyst1", DashboardRole.Analyst)],
            Audit = e => { lock (audits) audits.Add(e); },
        };
        await using var server = await DashboardServer.StartAsync(options, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        var id = DashboardSeed.RakhineSpike.Id;

        using (var anon = await http.GetAsync("/api/alerts"))
            Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        using (var wrong = await Send(http, HttpMethod.Get, "/api/alerts", "nope", null))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var read = await Send(http, HttpMethod.Get, "/api/alerts", "viewer-key-123", null))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var denied = await Send(http, HttpMethod.Post, $"/api/alerts/{id}/status", "viewer-key-123", """{"status":"escalated"}"""))
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(AlertStatus.New, (await store.GetAlertAsync(id))!.Status);

        using (var bearer = new HttpRequestMessage(HttpMethod.Post, $"/api/alerts/{id}/status"))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "analyst-key-456");
            bearer.Content = new StringContent("""{"status":"escalated","note":"sent to partner"}""", Encoding.UTF8, "application/json");
            using var ok = await http.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        var alert = await store.GetAlertAsync(id);
        Assert.Equal(AlertStatus.Escalated, alert!.Status);
        Assert.Equal("analyst1", alert.Audit[^1].Actor);
        lock (audits) Assert.Contains(audits, e => e.Actor == "analyst1" && e.Action == "alert_status:escalated" && e.Target == id);

        // Viewers see alerts and aggregates only; raw posts, search, networks, dead letters and appeals need an analyst.
        foreach (var path in new[] { "/api/posts/sim:1", "/api/posts/search?q=x", "/api/network/amplifiers", "/api/network/ego/p_1", "/api/deadletters", "/api/appeals" })
        {
            using var forbidden = await Send(http, HttpMethod.Get, path, "viewer-key-123", null);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        // The safeguard endpoints (appeals, re-identification, key rotation): 401 without a key, 403 below their role,
        // even on a server without the safeguard tables (the role is checked first).
        var safeguardEndpoints = new (HttpMethod Method, string Path, string? Body, DashboardRole Needs)[]
        {
            (HttpMethod.Get, "/api/appeals", null, DashboardRole.Analyst),
            (HttpMethod.Post, "/api/appeals", """{"post_id":"sim:1","reason":"r","on_behalf_of":"o"}""", DashboardRole.Analyst),
            (HttpMethod.Post, "/api/appeals/ap_1/review", """{"outcome":"uphold"}""", DashboardRole.Analyst),
            (HttpMethod.Post, "/api/admin/reidentify", """{"pseudonym":"p_0123456789abcdef","reason":"r"}""", DashboardRole.Admin),
            (HttpMethod.Get, "/api/admin/keys", null, DashboardRole.Admin),
            (HttpMethod.Post, "/api/admin/keys/rotate", "{}", DashboardRole.Admin),
            (HttpMethod.Get, "/api/admin/audit", null, DashboardRole.Admin),
        };
        foreach (var (method, path, body, needs) in safeguardEndpoints)
        {
            using (var anon = new HttpRequestMessage(method, path))
            {
                if (body is not null) anon.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using var res = await http.SendAsync(anon);
                Assert.True(res.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key: {res.StatusCode}");
            }
            foreach (var (key, role) in new[] { ("viewer-key-123", DashboardRole.Viewer), ("analyst-key-456", DashboardRole.Analyst) })
            {
                if (role >= needs) continue;
                using var res = await Send(http, method, path, key, body);
                Assert.True(res.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} as {role}: {res.StatusCode}");
            }
        }
        // Refused admin actions are audited too.
        lock (audits) Assert.Contains(audits, e => e.Actor == "analyst1" && e.Action == "reidentify_denied" && e.Target == "p_0123456789abcdef");
        lock (audits) Assert.Contains(audits, e => e.Actor == "viewer1" && e.Action == "key_rotation_denied");
        using (var timeline = await Send(http, HttpMethod.Get, "/api/timeline", "viewer-key-123", null))
            Assert.Equal(HttpStatusCode.OK, timeline.StatusCode);
        using (var view = await Send(http, HttpMethod.Get, "/api/posts/sim:1", "analyst-key-456", null))
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        lock (audits) Assert.Contains(audits, e => e.Actor == "analyst1" && e.Action == "view_post" && e.Target == "sim:1");
        lock (audits) Assert.DoesNotContain(audits, e => e.Actor == "viewer1" && e.Action == "view_post");

        // Static files carry no data and load without a key (the page asks for the key itself).
        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Store_failures_become_a_500_json_answer_without_details()
    {
        await using var store = new DashboardFakeStore();
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0 }, new FailingCountsStore(store), NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var res = await http.GetAsync("/api/stats");
        Assert.Equal(HttpStatusCode.InternalServerError, res.StatusCode);
        var body = await res.Content.ReadAsStringAsync();
        Assert.DoesNotContain("disk on fire", body, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()));
        using var health = await http.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static async Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string key, string? json)
    {
        using var req = new HttpRequestMessage(method, path);
        req.Headers.Add("X-Api-Key", key);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await http.SendAsync(req);
    }

    /// <summary>A store whose counts query fails, as a broken disk would.</summary>
    private sealed class FailingCountsStore(DashboardFakeStore inner) : Core.Stores.IPipelineStore
    {
        public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);
        public Task WriteAsync(Core.Stores.StoreBatch batch, CancellationToken ct = default) => inner.WriteAsync(batch, ct);
        public Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default) => inner.GetCheckpointAsync(source, ct);
        public Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default) => inner.GetStateAsync(key, ct);
        public Task<IReadOnlyList<Alert>> GetAlertsAsync(Core.Stores.AlertQuery query, CancellationToken ct = default) => inner.GetAlertsAsync(query, ct);
        public Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default) => inner.GetAlertAsync(id, ct);
        public Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default) => inner.UpdateAlertStatusAsync(id, status, actor, note, ct);
        public Task<IReadOnlyList<Core.Stores.SeriesPoint>> GetTimelineAsync(Core.Stores.TimelineQuery query, CancellationToken ct = default) => inner.GetTimelineAsync(query, ct);
        public Task<Core.Stores.StoredPost?> GetPostAsync(string id, CancellationToken ct = default) => inner.GetPostAsync(id, ct);
        public Task<IReadOnlyList<Core.Stores.StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default) => inner.SearchPostsAsync(query, limit, ct);
        public Task<IReadOnlyList<Core.Stores.StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default) => inner.GetDeadLettersAsync(limit, ct);
        public Task AddFeedbackAsync(Core.Stores.Feedback feedback, CancellationToken ct = default) => inner.AddFeedbackAsync(feedback, ct);
        public Task<IReadOnlyList<Core.Stores.Feedback>> GetFeedbackAsync(CancellationToken ct = default) => inner.GetFeedbackAsync(ct);
        public Task<Core.Stores.StoreCounts> GetCountsAsync(CancellationToken ct = default) => throw new IOException("disk on fire");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
