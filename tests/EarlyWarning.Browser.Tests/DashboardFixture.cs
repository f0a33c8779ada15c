using System.Diagnostics;
using System.Runtime.CompilerServices;
using EarlyWarning.App;
using EarlyWarning.App.Http;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Browser.Tests;

/// <summary>
/// Once per test class: fills a SQLite store with the CLI's simulator run, serves the dashboard over it (with a live
/// view whose network engine is restored from the state the run stored), and launches a headless Chromium.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>Posts the simulator writes: enough for alerts, clusters and a timeline, small enough for CI.</summary>
    public const int Posts = 50_000;

    /// <summary>The key under which <see cref="PipelineRunner"/> stores its network engine's state (a private constant there).</summary>
    private const string NetworkStateKey = "network";

    private PostClassifier? _classifier;
    private BrowserSession? _browser;

    public string Dir { get; } = TestPaths.NewTempDir("ew-browser");
    public SqliteStore Store { get; private set; } = null!;
    public DashboardServer Server { get; private set; } = null!;
    public IDashboardLive Live { get; private set; } = null!;
    /// <summary>How long each step of the set-up took, for the report.</summary>
    public string Timings { get; private set; } = "";
    public string ScreenshotDir { get; } = Path.Combine(TestPaths.RepoRoot, "artifacts", "screenshots");

    public BrowserSession Browser => _browser ?? throw new InvalidOperationException("browser not started");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ScreenshotDir);
        // The browser first: when Chromium or the Playwright driver is missing, fail before the half-minute store fill.
        var launch = Stopwatch.StartNew();
        _browser = await BrowserSession.LaunchAsync(Path.Combine(Dir, "chromium-profile"));
        var launchMs = launch.ElapsedMilliseconds;
        var db = Path.Combine(Dir, "ew.db");
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            var log = new StringWriter();
            var err = new StringWriter();
            var sw = Stopwatch.StartNew();
            var rc = await Cli.RunAsync(
                ["run", "--source", "simulate", "--seed", "1", "--posts", Posts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", Dir],
                log, err, null, cts.Token);
            Timings = $"simulator run ({Posts} posts) into SQLite: {sw.ElapsedMilliseconds} ms";
            // The run's log holds counts only; its error output is what explains a failure.
            if (rc != 0) throw new InvalidOperationException($"'earlywarning run' exited {rc}: {err}");
        }

        var step = Stopwatch.StartNew();
        Store = new SqliteStore(db);
        await Store.InitializeAsync();
        Live = await OpenLiveViewAsync();
        Server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0 }, Store, Live, CancellationToken.None);
        Timings += $"; live view + server: {step.ElapsedMilliseconds} ms; Playwright driver + Chromium launch: {launchMs} ms";
    }

    /// <summary>
    /// A <see cref="LiveView"/> over a pipeline that does not run: its network engine holds the graph the CLI run
    /// stored with its last checkpoint, so the network view shows the run's real accounts without a second run.
    /// </summary>
    private async Task<IDashboardLive> OpenLiveViewAsync()
    {
        var state = await Store.GetStateAsync(NetworkStateKey)
            ?? throw new InvalidOperationException($"the run stored no '{NetworkStateKey}' state; the network view has nothing to show");
        var network = new NetworkEngine(new NetworkOptions());
        network.LoadState(state);
        _classifier = PostClassifier.Load(ModelPaths.DefaultModelDir, ModelPaths.DefaultLexiconDir);
        var key = Pseudonymizer.LoadOrCreateKey(Path.Combine(Dir, "pseudonym.key"));
        var runner = new PipelineRunner(new PipelineOptions(), new NoMessages(), Store, _classifier, new Pseudonymizer(key),
            new SignalEngine(new SignalOptions()), network);
        // What the running pipeline learns from coordinated-campaign signals; here it comes from the stored alerts.
        foreach (var alert in await Store.GetAlertsAsync(new AlertQuery(Kind: "coordinated_campaign", Limit: 1000)))
            foreach (var account in alert.Evidence.Accounts) runner.CoordinatedAccounts.TryAdd(account, 0);
        return new StoredRunView(new LiveView(runner, _classifier.ModelId) { SnapshotInterval = TimeSpan.FromHours(1) });
    }

    /// <summary>Saves what the viewport shows under artifacts/screenshots and returns the file's path.</summary>
    public async Task<string> ScreenshotAsync(Microsoft.Playwright.IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDir, name + ".png");
        await page.ScreenshotAsync(new() { Path = path });
        return path;
    }

    /// <summary>
    /// Saves one element under artifacts/screenshots and returns the file's path. Cut from a full-page rendering, so the
    /// sticky page header does not cover the element as it does in a scrolled viewport (the page is scrolled to the top first).
    /// </summary>
    public async Task<string> ScreenshotAsync(Microsoft.Playwright.IPage page, Microsoft.Playwright.ILocator element, string name)
    {
        var path = Path.Combine(ScreenshotDir, name + ".png");
        var box = await element.EvaluateAsync<float[]>(
            "e => { window.scrollTo(0, 0); const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }");
        await page.ScreenshotAsync(new()
        {
            Path = path,
            FullPage = true,
            Clip = new Microsoft.Playwright.Clip { X = box[0], Y = box[1], Width = Math.Max(1, box[2]), Height = Math.Max(1, box[3]) },
        });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        if (Store is not null) await Store.DisposeAsync();
        _classifier?.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Stage busy shares the header is checked against: the live view's pipeline never runs, so it has none of its
    /// own (the shares of a real run are checked through the API and /metrics in the Benchmarks tests).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, double> StageBusy = new Dictionary<string, double>
    {
        ["decode"] = 0.26, ["classify"] = 0.45, ["network"] = 0.93, ["signals"] = 0.27, ["store"] = 0.3,
    };

    /// <summary>A finished run's views: the live view's network, with the status of a pipeline that is not running.</summary>
    private sealed class StoredRunView(LiveView inner) : IDashboardLive
    {
        public App.Http.PipelineStatus GetStatus() => inner.GetStatus() with { State = "idle", StageBusy = StageBusy };
        public IReadOnlyList<Scope> GetSeriesScopes() => inner.GetSeriesScopes();
        public IReadOnlyList<AmplifierView> GetAmplifiers(int limit) => inner.GetAmplifiers(limit);
        public IReadOnlyList<ClusterView> GetClusters(int limit) => inner.GetClusters(limit);
        public EgoNetworkView? GetEgoNetwork(string account, int depth, int maxNodes) => inner.GetEgoNetwork(account, depth, maxNodes);
    }

    /// <summary>A source with nothing in it: the live view's pipeline is never run.</summary>
    private sealed class NoMessages : IMessageSource
    {
        public string Name => "none";
        public bool IsFinite => true;

        public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
        {
            await Task.CompletedTask;
            yield break;
        }
    }
}
