using System.Diagnostics;
using System.Diagnostics.Metrics;
using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Observability;

/// <summary>
/// Cumulative counters of a pipeline at one instant (what <see cref="PipelineStatus"/> exposes). StageSeconds holds, per
/// stage in <see cref="PipelineStatus.StageNames"/> order, the seconds spent busy, idle and back-pressured
/// (<see cref="StageClock"/>); null when not known.
/// </summary>
public readonly record struct PipelineCounters(long Read, long Decoded, long DeadLettered, long Classified, long Flagged, long Stored,
    long AlertUpdates, long BatchesStored, int[] QueueDepths, DateTimeOffset? EventTime, double LatencyP50Ms, double LatencyP99Ms,
    (double Busy, double Idle, double Backpressured)[]? StageSeconds = null)
{
    /// <summary>Reads every counter of a running pipeline's status.</summary>
    public static PipelineCounters From(PipelineStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var (p50, p99, _) = s.StoreLatency;
        return new(s.Read, s.Decoded, s.DeadLettered, s.Classified, s.Flagged, s.Stored, s.AlertsRaised, s.BatchesStored,
            [.. s.QueueDepths.Select(q => q())], s.EventTime, p50, p99,
            [.. s.StageClocks.Select(c => (c[StageActivity.Busy].TotalSeconds, c[StageActivity.Idle].TotalSeconds, c[StageActivity.Backpressured].TotalSeconds))]);
    }
}

/// <summary>
/// The pipeline's <see cref="System.Diagnostics.Metrics"/> instruments on the meter <c>EarlyWarning.Pipeline</c>:
/// per-stage post counters and queue depths observed from the pipeline's status (no hook in the stages needed), and a
/// read→stored latency histogram and consumer-lag gauge fed by optional hooks. Any listener sees them: the
/// Prometheus endpoint (<see cref="PrometheusEndpoint"/>), OpenTelemetry's <c>AddMeter("EarlyWarning.Pipeline")</c>,
/// or <c>dotnet-counters monitor --counters EarlyWarning.Pipeline</c>.
/// </summary>
public sealed class PipelineMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "EarlyWarning.Pipeline";

    /// <summary>Queue names in the order of <see cref="PipelineStatus.QueueDepths"/>.</summary>
    public static readonly string[] QueueNames = ["raw", "decoded", "classified", "observed", "store"];

    private static readonly double[] LatencyBucketsMs = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly Meter _meter;
    private readonly Func<PipelineCounters?> _counters;
    private readonly Histogram<double> _latency;
    private Func<IEnumerable<KeyValuePair<string, long>>>? _lag;

    /// <param name="counters">Reads the current counters; null while no pipeline runs (nothing is reported then).</param>
    public PipelineMetrics(Func<PipelineCounters?> counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        _counters = counters;
        _meter = new Meter(MeterName, "1.0");
        _meter.CreateObservableCounter("earlywarning.pipeline.posts", ObservePosts, "{post}",
            "Posts that passed each stage (read, decoded, dead_lettered, classified, flagged, stored)");
        _meter.CreateObservableCounter("earlywarning.pipeline.alert_updates", () => Single(c => c.AlertUpdates), "{alert}", "Alerts raised or updated");
        _meter.CreateObservableCounter("earlywarning.pipeline.store_batches", () => Single(c => c.BatchesStored), "{batch}", "Store transactions committed");
        _meter.CreateObservableCounter("earlywarning.pipeline.stage_time", ObserveStageTime, "s",
            "Wall-clock time each stage spent busy, idle (waiting for input) and backpressured (waiting for the next stage to take its output)");
        _meter.CreateObservableGauge("earlywarning.pipeline.queue_depth", ObserveQueues, "{item}", "Items waiting in each bounded channel between stages");
        _meter.CreateObservableGauge("earlywarning.pipeline.event_time", ObserveEventTime, "s", "Latest event time analysed (Unix seconds)");
        _meter.CreateObservableGauge("earlywarning.pipeline.store_latency_p99", () => SingleD(c => c.LatencyP99Ms), "ms", "p99 wall-clock latency from reading a post to storing its decision");
        _meter.CreateObservableGauge("earlywarning.pipeline.store_latency_p50", () => SingleD(c => c.LatencyP50Ms), "ms", "p50 wall-clock latency from reading a post to storing its decision");
        _meter.CreateObservableGauge("earlywarning.pipeline.consumer_lag", ObserveLag, "{message}", "Messages behind the end of each source partition");
        _latency = _meter.CreateHistogram<double>("earlywarning.pipeline.latency", "ms", "Wall-clock latency from reading a post to storing its decision",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
    }

    /// <summary>
    /// Metrics for a pipeline: every counter is read from <paramref name="runner"/>'s status, the runner's store
    /// stage feeds the latency histogram (<see cref="PipelineRunner.Metrics"/>; detached on dispose), and consumer
    /// lag comes from its source (Kafka partitions; nothing for files and the simulator).
    /// </summary>
    public static PipelineMetrics For(PipelineRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var m = new PipelineMetrics(() => PipelineCounters.From(runner.Status));
        m.SetLagSource(runner.SourceLag);
        runner.Metrics = m;
        m._runner = runner;
        return m;
    }

    private PipelineRunner? _runner;

    /// <summary>Bucket boundaries of the latency histogram, in milliseconds.</summary>
    public static IReadOnlyList<double> LatencyBoundariesMs => LatencyBucketsMs;

    /// <summary>The meter (for tests and in-process listeners).</summary>
    public Meter Meter => _meter;

    /// <summary>
    /// Hook for the store stage: records the read→stored latency of every post of one committed transaction
    /// (<see cref="PostEnvelope.ReadTimestamp"/> to <paramref name="storedTimestamp"/>, both
    /// <see cref="Stopwatch.GetTimestamp"/>). No allocation; nothing is done while no listener is attached.
    /// </summary>
    public void RecordStored(IReadOnlyList<PostEnvelope> posts, long storedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(posts);
        if (!_latency.Enabled) return;
        for (var i = 0; i < posts.Count; i++)
            _latency.Record(Stopwatch.GetElapsedTime(posts[i].ReadTimestamp, storedTimestamp).TotalMilliseconds);
    }

    /// <summary>Records one latency in milliseconds.</summary>
    public void RecordLatency(double milliseconds) => _latency.Record(milliseconds);

    /// <summary>Hook for sources that know their lag (Kafka: end offset − committed offset, per partition).</summary>
    public void SetLagSource(Func<IEnumerable<KeyValuePair<string, long>>> lag) => _lag = lag;

    private IEnumerable<Measurement<long>> ObservePosts()
    {
        if (_counters() is not { } c) yield break;
        yield return new(c.Read, new KeyValuePair<string, object?>("stage", "read"));
        yield return new(c.Decoded, new KeyValuePair<string, object?>("stage", "decoded"));
        yield return new(c.DeadLettered, new KeyValuePair<string, object?>("stage", "dead_lettered"));
        yield return new(c.Classified, new KeyValuePair<string, object?>("stage", "classified"));
        yield return new(c.Flagged, new KeyValuePair<string, object?>("stage", "flagged"));
        yield return new(c.Stored, new KeyValuePair<string, object?>("stage", "stored"));
    }

    private IEnumerable<Measurement<int>> ObserveQueues()
    {
        if (_counters() is not { } c) yield break;
        for (var i = 0; i < c.QueueDepths.Length; i++)
            yield return new(c.QueueDepths[i], new KeyValuePair<string, object?>("queue", i < QueueNames.Length ? QueueNames[i] : "q" + i));
    }

    private IEnumerable<Measurement<double>> ObserveStageTime()
    {
        if (_counters() is not { StageSeconds: { } stages }) yield break;
        for (var i = 0; i < stages.Length; i++)
        {
            var stage = new KeyValuePair<string, object?>("stage", i < PipelineStatus.StageNames.Length ? PipelineStatus.StageNames[i] : "s" + i);
            yield return new(stages[i].Busy, stage, new KeyValuePair<string, object?>("activity", "busy"));
            yield return new(stages[i].Idle, stage, new KeyValuePair<string, object?>("activity", "idle"));
            yield return new(stages[i].Backpressured, stage, new KeyValuePair<string, object?>("activity", "backpressured"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveEventTime()
    {
        if (_counters() is { EventTime: { } t }) yield return new(t.ToUnixTimeSeconds());
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        if (_lag is not { } lag) yield break;
        foreach (var (partition, value) in lag()) yield return new(value, new KeyValuePair<string, object?>("partition", partition));
    }

    private IEnumerable<Measurement<long>> Single(Func<PipelineCounters, long> pick)
    {
        if (_counters() is { } c) yield return new(pick(c));
    }

    private IEnumerable<Measurement<double>> SingleD(Func<PipelineCounters, double> pick)
    {
        if (_counters() is { } c) yield return new(pick(c));
    }

    public void Dispose()
    {
        if (_runner is { } r && ReferenceEquals(r.Metrics, this)) r.Metrics = null;
        _meter.Dispose();
    }
}
