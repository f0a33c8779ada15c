using System.Net;
using System.Xml.Linq;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Integration.Tests;

/// <summary>The Atom and CAP feeds are served by the dashboard server itself, with its API keys.</summary>
public sealed class DashboardFeedWiringTests
{
    private static Alert Sample() => new()
    {
        Id = Alert.MakeId(AlertKinds.VolumeSpike, new Scope("MM", "Rakhine", "rohingya"), new DateTimeOffset(2026, 11, 8, 3, 30, 0, TimeSpan.Zero)),
        Kind = AlertKinds.VolumeSpike,
        Severity = Severity.High,
        Score = 12,
        WindowStart = new DateTimeOffset(2026, 11, 8, 3, 30, 0, TimeSpan.Zero),
        WindowEnd = new DateTimeOffset(2026, 11, 8, 3, 40, 0, TimeSpan.Zero),
        DetectedAt = new DateTimeOffset(2026, 11, 8, 3, 32, 0, TimeSpan.Zero),
        Scope = new Scope("MM", "Rakhine", "rohingya"),
        Explanation = "Hateful posts targeting Rohingya in Rakhine rose sharply.",
    };

    [Fact]
    public async Task Cap_and_atom_are_served_next_to_the_api_and_win_over_the_api_catch_all()
    {
        await using var store = new DashboardFakeStore();
        var alert = Sample();
        var batch = new StoreBatch();
        batch.Alerts.Add(alert);
        await store.WriteAsync(batch);
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0 }, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };

        using var cap = await http.GetAsync($"/api/alerts/{alert.Id}/cap.xml");
        Assert.Equal(HttpStatusCode.OK, cap.StatusCode);
        var capDoc = XDocument.Parse(await cap.Content.ReadAsStringAsync());
        XNamespace ns = "urn:oasis:names:tc:emergency:cap:1.2";
        Assert.Equal(ns + "alert", capDoc.Root!.Name);
        Assert.Contains(alert.Id, capDoc.Root.Element(ns + "identifier")!.Value, StringComparison.Ordinal);

        using var atom = await http.GetAsync("/feeds/alerts.atom?country=MM");
        Assert.Equal(HttpStatusCode.OK, atom.StatusCode);
        XNamespace a = "http://www.w3.org/2005/Atom";
        var feed = XDocument.Parse(await atom.Content.ReadAsStringAsync());
        Assert.Single(feed.Root!.Elements(a + "entry"));

        using var missing = await http.GetAsync("/api/alerts/al_nope/cap.xml");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Feeds_require_the_dashboard_keys_when_keys_are_configured()
    {
        await using var store = new DashboardFakeStore();
        var options = new DashboardOptions { Port = 0, ApiKeys = [new DashboardApiKey("k-viewer-0123456789", "viewer", DashboardRole.Viewer)] };
        await using var server = await DashboardServer.StartAsync(options, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var anonymous = await http.GetAsync("/feeds/alerts.atom");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/feeds/alerts.atom");
        keyed.Headers.Add("X-Api-Key", "k-viewer-0123456789");
        using var ok = await http.SendAsync(keyed);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}

/// <summary>The Prometheus endpoint is served by the dashboard server and guarded by its keys.</summary>
public sealed class DashboardMetricsWiringTests
{
    [Fact]
    public async Task Metrics_are_scraped_from_the_dashboard_and_need_a_key_when_keys_are_configured()
    {
        await using var store = new DashboardFakeStore();
        using var meter = new System.Diagnostics.Metrics.Meter("EarlyWarning.Pipeline.WiringTest");
        var counter = meter.CreateCounter<long>("wiring_test_posts");
        using var exporter = new EarlyWarning.App.Observability.PrometheusExporter("EarlyWarning.Pipeline.WiringTest");
        counter.Add(7);
        var options = new DashboardOptions
        {
            Port = 0,
            Metrics = exporter,
            ApiKeys = [new DashboardApiKey("k-viewer-0123456789", "viewer", DashboardRole.Viewer)],
        };
        await using var server = await DashboardServer.StartAsync(options, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var anonymous = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var req = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        req.Headers.Add("X-Api-Key", "k-viewer-0123456789");
        using var ok = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("wiring_test_posts", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
