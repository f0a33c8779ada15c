using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using EarlyWarning.App.Observability;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EarlyWarning.Benchmarks.Tests;

/// <summary>The pipeline's metrics (meter EarlyWarning.Pipeline) and their Prometheus text exposition.</summary>
public sealed class ObservabilityTests
{
    private static PipelineCounters Counters(long read) =>
        new(read, read - 2, 2, read - 2, 7, read - 2, 3, 4, [5, 1, 0, 0, 2], DateTimeOffset.FromUnixTimeSeconds(1_794_000_000), 12.5, 80,
            [(0.5, 9, 0), (2, 0.25, 7), (3, 0, 6), (9, 0, 0.5), (4, 5, 0.25), (1.5, 8, 0)]);

    private static double Value(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"series {series} not found in the exposition");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Exposition_has_stage_counters_queue_gauges_and_a_cumulative_latency_histogram()
    {
        long read = 100;
        using var exporter = new PrometheusExporter();
        using var metrics = new PipelineMetrics(() => Counters(read));
        metrics.RecordLatency(0.5);
        metrics.RecordLatency(7);
        metrics.RecordLatency(7000);

        var text = exporter.Scrape();
        Assert.Contains("# TYPE earlywarning_pipeline_posts counter", text, StringComparison.Ordinal);
        Assert.Equal(100, Value(text, "earlywarning_pipeline_posts_total{stage=\"read\"}"));
        Assert.Equal(98, Value(text, "earlywarning_pipeline_posts_total{stage=\"stored\"}"));
        Assert.Equal(2, Value(text, "earlywarning_pipeline_posts_total{stage=\"dead_lettered\"}"));
        Assert.Equal(5, Value(text, "earlywarning_pipeline_queue_depth{queue=\"raw\"}"));
        Assert.Equal(2, Value(text, "earlywarning_pipeline_queue_depth{queue=\"store\"}"));
        Assert.Equal(80, Value(text, "earlywarning_pipeline_store_latency_p99_milliseconds"));
        Assert.Equal(1, Value(text, "earlywarning_pipeline_latency_milliseconds_bucket{le=\"1\"}"));
        Assert.Equal(2, Value(text, "earlywarning_pipeline_latency_milliseconds_bucket{le=\"10\"}"));
        Assert.Equal(2, Value(text, "earlywarning_pipeline_latency_milliseconds_bucket{le=\"5000\"}"));
        Assert.Equal(3, Value(text, "earlywarning_pipeline_latency_milliseconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(3, Value(text, "earlywarning_pipeline_latency_milliseconds_count"));
        Assert.Equal(7007.5, Value(text, "earlywarning_pipeline_latency_milliseconds_sum"));
        Assert.Contains("# TYPE earlywarning_pipeline_stage_time_seconds counter", text, StringComparison.Ordinal);
        Assert.Equal(9, Value(text, "earlywarning_pipeline_stage_time_seconds_total{activity=\"busy\",stage=\"network\"}"));
        Assert.Equal(0.5, Value(text, "earlywarning_pipeline_stage_time_seconds_total{activity=\"backpressured\",stage=\"network\"}"));
        Assert.Equal(0.25, Value(text, "earlywarning_pipeline_stage_time_seconds_total{activity=\"idle\",stage=\"decode\"}"));
        Assert.Equal(5, Value(text, "earlywarning_pipeline_stage_time_seconds_total{activity=\"idle\",stage=\"signals\"}"));
        Assert.Equal(8, Value(text, "earlywarning_pipeline_stage_time_seconds_total{activity=\"idle\",stage=\"store\"}"));

        // Observable counters report the current cumulative value on every scrape, not a running sum of scrapes.
        read = 250;
        var again = exporter.Scrape();
        Assert.Equal(250, Value(again, "earlywarning_pipeline_posts_total{stage=\"read\"}"));
        Assert.Equal(3, Value(again, "earlywarning_pipeline_latency_milliseconds_count"));
    }

    [Fact]
    public void Nothing_is_reported_while_no_pipeline_runs_and_lag_comes_from_its_hook()
    {
        using var exporter = new PrometheusExporter();
        using var metrics = new PipelineMetrics(() => null);
        Assert.DoesNotContain("earlywarning_pipeline_posts_total", exporter.Scrape(), StringComparison.Ordinal);
        metrics.SetLagSource(() => [new("posts/0", 12), new("posts/1", 0)]);
        var text = exporter.Scrape();
        Assert.Equal(12, Value(text, "earlywarning_pipeline_consumer_lag{partition=\"posts/0\"}"));
        Assert.Equal(0, Value(text, "earlywarning_pipeline_consumer_lag{partition=\"posts/1\"}"));
    }

    /// <summary>A source whose lag is its message count minus the highest offset acknowledged as stored.</summary>
    private sealed class LaggingSource(IMessageSource inner, long total) : IMessageSource
    {
        private long _acknowledged;
        public string Name => inner.Name;
        public bool IsFinite => inner.IsFinite;
        public IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, CancellationToken ct) => inner.ReadAsync(resumeAfter, ct);
        public void Acknowledge(IReadOnlyDictionary<string, long> checkpoints)
        {
            if (checkpoints.TryGetValue(Name, out var o)) Interlocked.Exchange(ref _acknowledged, Math.Max(o, Interlocked.Read(ref _acknowledged)));
        }
        public IEnumerable<KeyValuePair<string, long>> Lag() => [new(Name, total - Interlocked.Read(ref _acknowledged))];
    }

    /// <summary>A side source that never delivers and reports a fixed lag.</summary>
    private sealed class IdleSource(string name, long lag) : IMessageSource
    {
        public string Name => name;
        public bool IsFinite => false;
        public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
            yield break;
        }
        public IEnumerable<KeyValuePair<string, long>> Lag() => [new(name, lag)];
    }

    [Theory]
    [InlineData("earlywarning.pipeline.latency", "ms", "earlywarning_pipeline_latency_milliseconds")]
    [InlineData("a-b.c", "{post}", "a_b_c")]
    [InlineData("9lives", "s", "_9lives_seconds")]
    [InlineData("size_bytes", "By", "size_bytes")]
    public void Metric_names_follow_prometheus_rules(string name, string unit, string expected) =>
        Assert.Equal(expected, PrometheusExporter.MetricName(name, unit));

    [Fact]
    public async Task Metrics_endpoint_serves_the_counters_of_a_real_pipeline_run()
    {
        var dir = TestPaths.NewTempDir("ew-metrics");
        try
        {
            using var exporter = new PrometheusExporter();
            await using var store = new SqliteStore(Path.Combine(dir, "ew.db"));
            await store.InitializeAsync();
            using var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
            var simulator = new SimulatorSource("election-day", 1, 3_000, 0);
            var total = new EarlyWarning.App.Simulation.Simulator("election-day", 1, 3_000).Count;
            // Consumer lag comes from the source (as Kafka reports it per partition), through the merged source.
            var source = new MergedSource(new LaggingSource(simulator, total), new IdleSource("side/0", 3));
            var runner = new PipelineRunner(new PipelineOptions(), source, store, classifier, new Pseudonymizer(new byte[32]),
                new SignalEngine(new SignalOptions()), new NetworkEngine(new NetworkOptions()));
            using var metrics = PipelineMetrics.For(runner);
            Assert.Same(metrics, runner.Metrics);
            var before = exporter.Scrape();
            Assert.Equal(total, Value(before, $"earlywarning_pipeline_consumer_lag{{partition=\"{simulator.Name}\"}}"));

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            await using var app = builder.Build();
            app.MapPrometheus(exporter);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

            await runner.RunAsync(CancellationToken.None);
            Assert.Equal("finished", runner.Status.State);

            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(runner.Status.Read, Value(text, "earlywarning_pipeline_posts_total{stage=\"read\"}"));
            Assert.Equal(new EarlyWarning.App.Simulation.Simulator("election-day", 1, 3_000).Count, runner.Status.Read);
            Assert.Equal(runner.Status.Stored, Value(text, "earlywarning_pipeline_posts_total{stage=\"stored\"}"));
            Assert.Equal(runner.Status.Flagged, Value(text, "earlywarning_pipeline_posts_total{stage=\"flagged\"}"));
            foreach (var q in PipelineMetrics.QueueNames)
                Assert.Equal(0, Value(text, $"earlywarning_pipeline_queue_depth{{queue=\"{q}\"}}"));
            Assert.True(Value(text, "earlywarning_pipeline_store_latency_p99_milliseconds") > 0);

            // Every stage's clock ran and stopped with the run: what it reports is what the status holds, and no stage
            // accounts for more time than the run took.
            foreach (var clock in runner.Status.StageClocks)
            {
                var seconds = 0.0;
                foreach (var (activity, label) in new[] { (StageActivity.Busy, "busy"), (StageActivity.Idle, "idle"), (StageActivity.Backpressured, "backpressured") })
                {
                    var v = Value(text, $"earlywarning_pipeline_stage_time_seconds_total{{activity=\"{label}\",stage=\"{clock.Stage}\"}}");
                    Assert.Equal(clock[activity].TotalSeconds, v, 6);
                    seconds += v;
                }
                Assert.True(clock[StageActivity.Busy] > TimeSpan.Zero, clock.Describe());
                Assert.True(seconds <= runner.Status.Elapsed.TotalSeconds, $"{clock.Describe()} in a run of {runner.Status.Elapsed}");
            }
            // The dashboard's header shows the same clocks as busy shares per stage.
            var live = new LiveView(runner).GetStatus();
            Assert.Equal(PipelineStatus.StageNames.Order(StringComparer.Ordinal), live.StageBusy.Keys.Order(StringComparer.Ordinal));
            foreach (var (stage, share) in live.StageBusy) Assert.InRange(share, 0, 1);

            // The read→stored histogram is fed by the store stage: one observation per stored post, in buckets.
            Assert.Contains("# TYPE earlywarning_pipeline_latency_milliseconds histogram", text, StringComparison.Ordinal);
            var stored = runner.Status.Stored;
            Assert.True(stored > 2_000, $"stored {stored}");
            Assert.Equal(stored, Value(text, "earlywarning_pipeline_latency_milliseconds_count"));
            Assert.Equal(stored, Value(text, "earlywarning_pipeline_latency_milliseconds_bucket{le=\"+Inf\"}"));
            Assert.True(Value(text, "earlywarning_pipeline_latency_milliseconds_sum") > 0);
            var previous = 0.0;
            foreach (var le in PipelineMetrics.LatencyBoundariesMs)
            {
                var cumulative = Value(text, $"earlywarning_pipeline_latency_milliseconds_bucket{{le=\"{le.ToString("R", CultureInfo.InvariantCulture)}\"}}");
                Assert.True(cumulative >= previous, $"bucket le={le} is not cumulative");
                previous = cumulative;
            }

            // Everything read was acknowledged as stored: the main source has no lag left; the side source's is its own.
            Assert.Equal(0, Value(text, $"earlywarning_pipeline_consumer_lag{{partition=\"{simulator.Name}\"}}"));
            Assert.Equal(3, Value(text, "earlywarning_pipeline_consumer_lag{partition=\"side/0\"}"));

            // Disposing the metrics detaches them from the runner.
            metrics.Dispose();
            Assert.Null(runner.Metrics);
            await app.StopAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// Runs the first <paramref name="posts"/> posts of the dense 1M-post election day (the end-to-end benchmark's
    /// stream) through a pipeline with the default model into a fresh SQLite store, from a replay file; returns the
    /// pipeline's status and the run's wall time.
    /// </summary>
    private static async Task<(PipelineStatus Status, double ElapsedMs)> RunElectionDayAsync(string name, int posts, PipelineOptions options)
    {
        var dir = TestPaths.NewTempDir(name);
        try
        {
            await using var store = new SqliteStore(Path.Combine(dir, "ew.db"));
            await store.InitializeAsync();
            using var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
            var file = Path.Combine(dir, "stream.jsonl");
            using (var f = File.Create(file))
                EarlyWarning.App.Simulation.Simulator.WriteJsonl(new EarlyWarning.App.Simulation.Simulator("election-day", 1, 1_000_000).Generate().Take(posts), f);
            var runner = new PipelineRunner(options, new ReplaySource(file),
                store, classifier, new Pseudonymizer(new byte[32]), new SignalEngine(new SignalOptions()), new NetworkEngine(new NetworkOptions()));
            var run = System.Diagnostics.Stopwatch.StartNew();
            await runner.RunAsync(CancellationToken.None);
            return (runner.Status, run.Elapsed.TotalMilliseconds);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// Read→stored latency starts when the source hands a post over, so time spent waiting in the raw channel before
    /// decode counts. With a channel deep enough for the whole stream, the source hands every post over at once and
    /// the last posts wait for nearly the whole run: p99 is then most of the run's length. Stamped at decode instead,
    /// it was the few batches between decode and store, a small fraction of the run.
    /// </summary>
    [Fact]
    public async Task Latency_starts_when_the_source_hands_the_post_over_not_at_decode()
    {
        const int posts = 20_000;
        var (status, elapsedMs) = await RunElectionDayAsync("ew-latency-read", posts,
            new PipelineOptions { StorePosts = StorePostsMode.All, RawChannelCapacity = 2 * posts });
        Assert.Equal("finished", status.State);
        var (_, p99, count) = status.StoreLatency;
        Assert.Equal(posts, count);
        Assert.True(p99 >= 0.5 * elapsedMs, $"p99 {p99:F0} ms in a run of {elapsedMs:F0} ms: the wait before decode was not counted");
    }

    [Fact]
    public async Task Decision_latency_counts_posts_read_with_their_batch_and_alert_latency_is_recorded()
    {
        // With --store-posts flagged an alert also stores the unflagged posts it cites, read minutes earlier: counting
        // them as decision latency made the run's p99 the age of alert evidence. Decisions are the flagged posts here.
        // The first 20,000 posts of the dense day: campaigns there cite unflagged posts within seconds.
        var (s, _) = await RunElectionDayAsync("ew-latency", 20_000, new PipelineOptions { StorePosts = StorePostsMode.Flagged });
        Assert.Equal("finished", s.State);
        Assert.True(s.Stored > s.Flagged, $"no alert evidence was stored ({s.Stored} stored, {s.Flagged} flagged)");
        Assert.Equal(s.Flagged, s.StoreLatency.Count);
        var (a50, a99, alerts) = s.AlertLatency;
        Assert.InRange(alerts, 1, s.AlertsRaised);
        Assert.True(a50 > 0 && a99 >= a50, $"alert latency p50 {a50} ms, p99 {a99} ms");
    }
}
