using System.Net;
using System.Xml.Linq;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EarlyWarning.Integration.Tests;

/// <summary>
/// The Atom and CAP feeds served by Kestrel on 127.0.0.1 over a real SQLite store, read back with XDocument; and the
/// dismissal → training-feedback loop through the same store.
/// </summary>
public sealed class FeedTests : IAsyncLifetime
{
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";
    private static readonly XNamespace Cap = "urn:oasis:names:tc:emergency:cap:1.2";
    private static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
    private const string Key = "feed-key-0123456789";

    private readonly string _dir = TestPaths.NewTempDir();
    private SqliteStore _store = null!;
    private WebApplication _app = null!;
    private WebApplication _keyed = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private Uri _base = null!;
    private Uri _keyedBase = null!;

    private static Alert MakeAlert(string kind, string country, string region, int hour, Severity severity) => new()
    {
        Id = Alert.MakeId(kind, new Scope(country, region, "target_x", "en"), T0.AddHours(hour)),
        Kind = kind,
        Severity = severity,
        Score = 6,
        WindowStart = T0.AddHours(hour),
        WindowEnd = T0.AddHours(hour).AddMinutes(15),
        DetectedAt = T0.AddHours(hour).AddMinutes(4),
        Scope = new Scope(country, region, "target_x", "en"),
        Baseline = 3,
        Observed = 20,
        Evidence = new Evidence { PostIds = [$"sim:{hour}-1", $"sim:{hour}-2"], Excerpts = ["synthetic excerpt"] },
        Explanation = $"Synthetic alert {hour} for the feed tests.",
        Model = "test-model@1 (ewma)",
    };

    private readonly Alert[] _alerts =
    [
        MakeAlert(AlertKinds.VolumeSpike, "MM", "Rakhine", 1, Severity.High),
        MakeAlert(AlertKinds.Incitement, "MM", "Yangon", 2, Severity.Critical),
        MakeAlert(AlertKinds.VolumeDrop, "LK", "Northern", 3, Severity.Low),
        MakeAlert(AlertKinds.VolumeSpike, "MM", "Rakhine", 4, Severity.Medium),
    ];

    public async Task InitializeAsync()
    {
        _store = await SqliteStore.OpenAsync(Path.Combine(_dir, "earlywarning.db"));
        var batch = new StoreBatch();
        batch.Alerts.AddRange(_alerts);
        await _store.WriteAsync(batch);
        (_app, _base) = await StartAsync(new FeedOptions { Cap = new CapOptions { Sender = "earlywarning@test.invalid", Status = "Exercise" } });
        (_keyed, _keyedBase) = await StartAsync(new FeedOptions { ApiKeys = [Key], PublicBaseUrl = new Uri("https://ew.example.org/") });
    }

    private async Task<(WebApplication, Uri)> StartAsync(FeedOptions options)
    {
        var b = WebApplication.CreateSlimBuilder();
        b.Logging.ClearProviders();
        b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = b.Build();
        app.MapAlertFeeds(_store, options);
        await app.StartAsync();
        var addr = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(addr));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
        await _keyed.DisposeAsync();
        await _store.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private async Task<(HttpStatusCode Status, string? Type, string Body, string? ETag)> Get(Uri root, string path, string? ifNoneMatch = null, string? key = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(root, path));
        if (ifNoneMatch is not null) req.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        if (key is not null) req.Headers.TryAddWithoutValidation("X-Api-Key", key);
        using var res = await _http.SendAsync(req);
        return (res.StatusCode, res.Content.Headers.ContentType?.MediaType, await res.Content.ReadAsStringAsync(), res.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Atom_feed_lists_recent_alerts_filtered_by_country_region_and_severity()
    {
        var (status, type, body, _) = await Get(_base, "/feeds/alerts.atom?country=MM&region=Rakhine&min_severity=medium");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/atom+xml", type);
        var feed = XDocument.Parse(body).Root!;
        Assert.Equal(Atom + "feed", feed.Name);
        foreach (var n in new[] { "id", "title", "updated", "author" }) Assert.Single(feed.Elements(Atom + n));
        var self = Assert.Single(feed.Elements(Atom + "link"), l => (string?)l.Attribute("rel") == "self");
        Assert.Contains("region=Rakhine", (string?)self.Attribute("href"), StringComparison.Ordinal);

        var entries = feed.Elements(Atom + "entry").ToList();
        // Newest window first; only the two Rakhine spikes qualify.
        Assert.Equal(["urn:earlywarning:alert:" + _alerts[3].Id, "urn:earlywarning:alert:" + _alerts[0].Id], entries.Select(e => e.Element(Atom + "id")!.Value));
        foreach (var e in entries)
        {
            foreach (var n in new[] { "id", "title", "updated" }) Assert.Single(e.Elements(Atom + n));
            var alt = Assert.Single(e.Elements(Atom + "link"), l => (string?)l.Attribute("rel") == "alternate");
            Assert.StartsWith(_base.ToString().TrimEnd('/') + "/#alert/al_", (string?)alt.Attribute("href"), StringComparison.Ordinal);
        }

        var high = XDocument.Parse((await Get(_base, "/feeds/alerts.atom?min_severity=high")).Body).Root!;
        Assert.Equal(2, high.Elements(Atom + "entry").Count());
    }

    [Fact]
    public async Task Dismissed_alerts_leave_the_feed_and_their_dismissal_becomes_training_feedback()
    {
        Assert.True(await _store.UpdateAlertStatusAsync(_alerts[0].Id, AlertStatus.Dismissed, "analyst-1", "not hateful: news report"));

        var feed = XDocument.Parse((await Get(_base, "/feeds/alerts.atom?country=MM")).Body).Root!;
        Assert.DoesNotContain(feed.Elements(Atom + "entry"), e => e.Element(Atom + "id")!.Value.EndsWith(_alerts[0].Id, StringComparison.Ordinal));
        var all = XDocument.Parse((await Get(_base, "/feeds/alerts.atom?country=MM&include_dismissed=true")).Body).Root!;
        Assert.Contains(all.Elements(Atom + "entry"), e => e.Element(Atom + "id")!.Value.EndsWith(_alerts[0].Id, StringComparison.Ordinal));

        // Lifecycle: the stored audit trail → evaluation record + "none" labels for the evidence posts.
        var stored = (await _store.GetAlertAsync(_alerts[0].Id))!;
        var fb = AlertFeedback.FromAudit(stored);
        Assert.Equal(DetectorEvaluationRecord.FalseAlert, fb.Evaluation!.Outcome);
        Assert.Equal("ewma", fb.Evaluation.Detector);
        foreach (var f in fb.Training) await _store.AddFeedbackAsync(f);
        var saved = await _store.GetFeedbackAsync();
        Assert.Equal(_alerts[0].Evidence.PostIds.Order(), saved.Select(f => f.PostId).Order());
        Assert.All(saved, f => Assert.Equal((Labels.None, "analyst-1"), (f.Label, f.Actor)));
        var summary = Assert.Single(AlertFeedback.Summarize([stored]));
        Assert.Equal(1, summary.FalseAlerts);
    }

    [Fact]
    public async Task Cap_document_per_alert_and_cap_list_feed()
    {
        var (status, type, body, _) = await Get(_base, $"/api/alerts/{_alerts[1].Id}/cap.xml");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/cap+xml", type);
        var cap = XDocument.Parse(body).Root!;
        Assert.Equal(Cap + "alert", cap.Name);
        Assert.Equal(_alerts[1].Id, cap.Element(Cap + "identifier")!.Value);
        Assert.Equal("earlywarning@test.invalid", cap.Element(Cap + "sender")!.Value);
        Assert.Equal("Exercise", cap.Element(Cap + "status")!.Value);
        var info = cap.Element(Cap + "info")!;
        Assert.Equal(("Extreme", "Immediate", "Likely"), (info.Element(Cap + "severity")!.Value, info.Element(Cap + "urgency")!.Value, info.Element(Cap + "certainty")!.Value));
        Assert.Equal("Yangon, MM", info.Element(Cap + "area")!.Element(Cap + "areaDesc")!.Value);

        Assert.Equal(HttpStatusCode.NotFound, (await Get(_base, "/api/alerts/al_nope/cap.xml")).Status);

        var list = XDocument.Parse((await Get(_base, "/feeds/alerts.cap?country=MM")).Body).Root!;
        var ids = list.Elements(Atom + "entry").Select(e => e.Element(Atom + "content")!.Element(Cap + "alert")!.Element(Cap + "identifier")!.Value).ToList();
        Assert.Equal([_alerts[3].Id, _alerts[1].Id, _alerts[0].Id], ids);
    }

    [Theory]
    [InlineData("/feeds/alerts.atom?min_severity=severe")]
    [InlineData("/feeds/alerts.atom?country=Myanmar")]
    [InlineData("/feeds/alerts.atom?kind=riot")]
    [InlineData("/feeds/alerts.atom?limit=0")]
    [InlineData("/feeds/alerts.cap?region=a&region=b")]
    public async Task Bad_filters_are_refused_with_a_reason(string path)
    {
        var (status, _, body, _) = await Get(_base, path);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrWhiteSpace(body));
    }

    [Fact]
    public async Task Unchanged_feed_answers_304_to_its_etag()
    {
        var first = await Get(_base, "/feeds/alerts.atom");
        Assert.NotNull(first.ETag);
        var again = await Get(_base, "/feeds/alerts.atom", ifNoneMatch: first.ETag);
        Assert.Equal(HttpStatusCode.NotModified, again.Status);
        Assert.Equal("", again.Body);
        await _store.UpdateAlertStatusAsync(_alerts[1].Id, AlertStatus.Escalated, "analyst-2", null);
        var changed = await Get(_base, "/feeds/alerts.atom", ifNoneMatch: first.ETag);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.NotEqual(first.ETag, changed.ETag);
    }

    [Fact]
    public async Task With_keys_the_feeds_need_one_and_links_use_the_public_base()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(_keyedBase, "/feeds/alerts.atom")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(_keyedBase, "/feeds/alerts.atom", key: "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(_keyedBase, $"/api/alerts/{_alerts[0].Id}/cap.xml")).Status);
        var ok = await Get(_keyedBase, "/feeds/alerts.atom", key: Key);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        var byQuery = await Get(_keyedBase, "/feeds/alerts.atom?key=" + Key);
        Assert.Equal(HttpStatusCode.OK, byQuery.Status);
        var feed = XDocument.Parse(byQuery.Body).Root!;
        var self = (string)feed.Elements(Atom + "link").Single(l => (string?)l.Attribute("rel") == "self").Attribute("href")!;
        Assert.StartsWith("https://ew.example.org/feeds/alerts.atom", self, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, self, StringComparison.Ordinal);
    }
}
