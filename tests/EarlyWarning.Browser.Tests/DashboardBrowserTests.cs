using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace EarlyWarning.Browser.Tests;

/// <summary>
/// The built-in dashboard in headless Chromium over a store the simulator run filled (issue 8, "Must show"):
/// alert feed, timeline, alert actions, network view and search, each checked against the store itself.
/// </summary>
public sealed partial class DashboardBrowserTests(DashboardFixture fx, ITestOutputHelper output) : IClassFixture<DashboardFixture>, IAsyncLifetime
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(15);
    private readonly List<string> _pageErrors = [];
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _page = await fx.Browser.Context.NewPageAsync();
        _page.PageError += (_, e) => { lock (_pageErrors) _pageErrors.Add("page error: " + e); };
        _page.Console += (_, m) =>
        {
            // The browser asks for /favicon.ico by itself; the dashboard has none and that 404 is not the page's fault.
            if (m.Type == "error" && !m.Location.Contains("favicon", StringComparison.Ordinal))
                lock (_pageErrors) _pageErrors.Add("console error: " + m.Text);
        };
        await _page.GotoAsync(fx.Server.Address.ToString(), new() { WaitUntil = WaitUntilState.DOMContentLoaded });
    }

    public async Task DisposeAsync() => await _page.CloseAsync();

    [Fact]
    public async Task Feed_shows_every_stored_alert_and_the_timeline_draws_series()
    {
        output.WriteLine(fx.Timings);
        var stored = await fx.Store.GetAlertsAsync(new AlertQuery(Limit: 1000));
        Assert.NotEmpty(stored); // the simulated election day injects incidents: no alerts means the run is broken
        var sw = Stopwatch.StartNew();

        await WaitForAlertsAsync();
        var shown = int.Parse(await _page.Locator("#alert-count").InnerTextAsync(), CultureInfo.InvariantCulture);
        var items = _page.Locator("#alert-list li.alert[data-id]");
        Assert.Equal(stored.Count, shown);
        Assert.Equal(stored.Count, await items.CountAsync());
        var ids = await items.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.id)");
        Assert.Equal(stored.Select(a => a.Id).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));

        // The header's store counters come from /api/stats.
        var counts = await fx.Store.GetCountsAsync();
        await WaitForTextAsync("#m-alerts", counts.Alerts.ToString("N0", CultureInfo.InvariantCulture));
        await WaitForTextAsync("#m-stored", counts.Posts.ToString("N0", CultureInfo.InvariantCulture));
        // Pipeline health: each stage's busy share, the busiest named in the tooltip.
        await WaitForTextAsync("#m-busy", "decode 26%, classify 45%, network 93%, signals 27%, store 30%");
        Assert.Equal("busiest stage: network (share of recent time working rather than waiting)", await _page.Locator("#m-busy").GetAttributeAsync("title"));

        // Timeline: one SVG path per series, each with a point per 5-minute bucket and only finite coordinates.
        var paths = _page.Locator("#tl-charts svg path.series");
        await paths.First.WaitForAsync();
        var ds = await paths.EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('d'))");
        Assert.NotEmpty(ds);
        foreach (var d in ds)
        {
            Assert.StartsWith("M", d, StringComparison.Ordinal);
            Assert.DoesNotContain("NaN", d, StringComparison.Ordinal);
            Assert.True(d.Count(c => c == 'L') >= 10, "a series path has fewer than 10 segments");
        }
        var total = _page.Locator("#tl-charts svg path.series.total");
        Assert.Equal(1, await total.CountAsync());
        output.WriteLine($"alerts, stats and timeline shown and checked {sw.ElapsedMilliseconds} ms after DOMContentLoaded; {stored.Count} alerts, {ds.Length} series");
        await fx.ScreenshotAsync(_page, "01-dashboard-top");
        await fx.ScreenshotAsync(_page, _page.Locator("#timeline"), "02-timeline");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Acknowledging_an_alert_in_the_page_changes_its_status_in_the_store()
    {
        await WaitForAlertsAsync();
        var id = await _page.Locator("#alert-list li.alert[data-status=new]").First.GetAttributeAsync("data-id")
            ?? throw new InvalidOperationException("alert without data-id");
        Assert.Equal(AlertStatus.New, (await fx.Store.GetAlertAsync(id))?.Status);

        // Located by id: the feed redraws every few seconds, and "the first new alert" changes once this one is acknowledged.
        var updated = _page.Locator($"#alert-list li.alert[data-id='{id}']");
        await updated.Locator("[data-action=acknowledge]").ClickAsync();

        var alert = await PollAsync(() => fx.Store.GetAlertAsync(id), a => a?.Status == AlertStatus.Acknowledged, StoreTimeout);
        Assert.Equal(AlertStatus.Acknowledged, alert!.Status);
        var audit = Assert.Single(alert.Audit, e => e.Action.Contains(AlertStatus.Acknowledged, StringComparison.Ordinal));
        Assert.Equal("local", audit.Actor);

        // The feed redraws from the store: the same alert now shows its new status and cannot be acknowledged again.
        await Assertions.Expect(updated).ToHaveAttributeAsync("data-status", AlertStatus.Acknowledged);
        await Assertions.Expect(updated.Locator("[data-action=acknowledge]")).ToBeDisabledAsync();
        await fx.ScreenshotAsync(_page, updated, "03-alert-acknowledged");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Network_view_lists_amplifiers_and_draws_an_ego_network()
    {
        var expected = fx.Live.GetAmplifiers(15);
        Assert.NotEmpty(expected);

        var rows = _page.Locator("#amplifiers tbody tr");
        await rows.First.WaitForAsync();
        Assert.Equal(expected.Count, await rows.CountAsync());
        var accounts = await _page.Locator("#amplifiers tbody tr td:first-child button").AllInnerTextsAsync();
        Assert.Equal(expected.Select(a => a.Account), accounts);
        var clusters = fx.Live.GetClusters(10);
        Assert.NotEmpty(clusters);
        await Assertions.Expect(_page.Locator("#clusters > li")).ToHaveCountAsync(clusters.Count);
        Assert.Equal(clusters.Select(c => c.Id), await _page.Locator("#clusters > li > strong").AllInnerTextsAsync());
        Assert.Equal(clusters.Count(c => c.Coordinated), await _page.Locator("#clusters .badge").CountAsync());

        // Clicking an amplifier draws its ego network: the centre plus its neighbours, as SVG circles and lines.
        await _page.Locator("#amplifiers tbody tr td:first-child button").First.ClickAsync();
        var nodes = _page.Locator("#ego svg circle.node");
        await nodes.First.WaitForAsync();
        var ego = fx.Live.GetEgoNetwork(expected[0].Account, 2, 80);
        Assert.NotNull(ego);
        Assert.Equal(ego.Nodes.Count, await nodes.CountAsync());
        Assert.True(ego.Nodes.Count > 1, "the strongest amplifier has no neighbours");
        Assert.Equal(expected[0].Account, await _page.Locator("#ego svg circle.node.center").GetAttributeAsync("data-id"));
        Assert.True(await _page.Locator("#ego svg line.edge").CountAsync() > 0, "no edges drawn");
        await Assertions.Expect(_page.Locator("#ego-info")).ToHaveTextAsync($"{ego.Nodes.Count} accounts, {ego.Edges.Count} links");
        await fx.ScreenshotAsync(_page, _page.Locator("#network"), "04-network");

        // The header's "Network" link scrolls the section into view (viewport screenshot shows what a user sees there).
        await _page.Locator("header nav a[href='#network']").ClickAsync();
        await Assertions.Expect(_page).ToHaveURLAsync(new Regex("#network$"));
        await fx.ScreenshotAsync(_page, "06-nav-network");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Search_finds_posts_for_a_word_of_the_stream_and_nothing_for_a_word_outside_it()
    {
        var word = await PickStreamWordAsync();
        var expected = await fx.Store.SearchPostsAsync(word, 50);
        Assert.NotEmpty(expected);

        await SearchAsync(word);
        await Assertions.Expect(_page.Locator("#search-info")).ToHaveTextAsync($"{expected.Count} posts");
        var results = _page.Locator("#search-results li.post");
        Assert.Equal(expected.Count, await results.CountAsync());
        var ids = await results.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.id)");
        Assert.Equal(expected.Select(p => p.Id), ids);
        foreach (var text in await _page.Locator("#search-results li.post p.text").AllInnerTextsAsync())
            Assert.True(CultureInfo.InvariantCulture.CompareInfo.IndexOf(text, word, CompareOptions.IgnoreCase | CompareOptions.IgnoreNonSpace) >= 0,
                "a search result does not contain the searched word");
        await fx.ScreenshotAsync(_page, _page.Locator("#search-form"), "05-search-form");
        await fx.ScreenshotAsync(_page, results.First, "05-search-first-result");

        // A word the simulator never writes finds nothing, and text that looks like query syntax is still answered.
        await SearchAsync("qzxvjwkpf");
        await Assertions.Expect(_page.Locator("#search-info")).ToHaveTextAsync("0 posts");
        Assert.Equal(0, await results.CountAsync());
        await SearchAsync("\"unbalanced OR (");
        await Assertions.Expect(_page.Locator("#search-info")).Not.ToHaveTextAsync("searching…");
        Assert.Matches(new Regex(@"^\d+ posts$|search", RegexOptions.CultureInvariant), await _page.Locator("#search-info").InnerTextAsync());
        AssertNoPageErrors();
    }

    private async Task SearchAsync(string words)
    {
        await _page.Locator("#search-q").FillAsync(words);
        await _page.Locator("#search-form button[type=submit]").ClickAsync();
    }

    /// <summary>The commonest plain word (4+ ASCII letters) in the evidence posts of the stored alerts.</summary>
    private async Task<string> PickStreamWordAsync()
    {
        var alerts = await fx.Store.GetAlertsAsync(new AlertQuery(Limit: 50));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in alerts.SelectMany(a => a.Evidence.PostIds).Distinct().Take(200))
        {
            if (await fx.Store.GetPostAsync(id) is not { } post) continue;
            foreach (Match m in AsciiWord().Matches(post.Text))
            {
                var w = m.Value.ToLowerInvariant();
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        }
        Assert.NotEmpty(counts);
        return counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
    }

    [GeneratedRegex(@"\b[A-Za-z]{4,}\b", RegexOptions.CultureInvariant)]
    private static partial Regex AsciiWord();

    private async Task WaitForAlertsAsync() =>
        await _page.Locator("#alert-list li.alert[data-id]").First.WaitForAsync();

    private async Task WaitForTextAsync(string selector, string text) =>
        await Assertions.Expect(_page.Locator(selector)).ToHaveTextAsync(text);

    private void AssertNoPageErrors()
    {
        lock (_pageErrors) Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));
    }

    /// <summary>Reads until the condition holds or the timeout passes (then returns the last value read).</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var v = await read();
            if (done(v) || sw.Elapsed > timeout) return v;
            await Task.Delay(50);
        }
    }
}
