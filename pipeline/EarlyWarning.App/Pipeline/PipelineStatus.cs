using System.Diagnostics;

namespace EarlyWarning.App.Pipeline;

/// <summary>Live counters of a running pipeline, read by the dashboard and the CLI summary. Thread-safe.</summary>
public sealed class PipelineStatus
{
    private long _read, _decoded, _deadLettered, _classified, _flagged, _stored, _alerts, _batchesStored;
    private long _eventTimeTicks;
    private long _stateSaves, _lastStateSaveTicks, _lastStateHoldTicks, _lastStateBytes, _longestStateHoldTicks, _totalStateHoldTicks;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly LatencyRecorder _latency = new();
    private readonly LatencyRecorder _alertLatency = new();

    public long Read => Interlocked.Read(ref _read);
    public long Decoded => Interlocked.Read(ref _decoded);
    public long DeadLettered => Interlocked.Read(ref _deadLettered);
    public long Classified => Interlocked.Read(ref _classified);
    public long Flagged => Interlocked.Read(ref _flagged);
    public long Stored => Interlocked.Read(ref _stored);
    public long AlertsRaised => Interlocked.Read(ref _alerts);
    public long BatchesStored => Interlocked.Read(ref _batchesStored);
    public DateTimeOffset? EventTime { get { var t = Interlocked.Read(ref _eventTimeTicks); return t == 0 ? null : new DateTimeOffset(t, TimeSpan.Zero); } }
    public TimeSpan Elapsed => _clock.Elapsed;
    public string State { get; internal set; } = "starting";
    public string? Source { get; internal set; }
    public Func<int>[] QueueDepths { get; internal set; } = [];

    /// <summary>Names of the stages in <see cref="StageClocks"/>, in pipeline order.</summary>
    public static readonly string[] StageNames = ["read", "decode", "classify", "network", "signals", "store"];

    /// <summary>Busy, idle and back-pressured time of each stage, in the order of <see cref="StageNames"/>.</summary>
    public IReadOnlyList<StageClock> StageClocks { get; } = [.. StageNames.Select(n => new StageClock(n))];

    internal StageClock ReadClock => StageClocks[0];
    internal StageClock DecodeClock => StageClocks[1];
    internal StageClock ClassifyClock => StageClocks[2];
    internal StageClock NetworkClock => StageClocks[3];
    internal StageClock SignalsClock => StageClocks[4];
    internal StageClock StoreClock => StageClocks[5];

    /// <summary>Wall-clock latency from reading a post to storing its decision, in milliseconds (p50, p99).</summary>
    public (double P50, double P99, long Count) StoreLatency => _latency.Percentiles();

    /// <summary>
    /// Wall-clock latency from reading a post to storing an alert (or alert update) it raised, in milliseconds, measured
    /// from the oldest post of the batch whose analysis raised it (so an upper bound). Alerts raised by the end-of-stream
    /// flush are not counted.
    /// </summary>
    public (double P50, double P99, long Count) AlertLatency => _alertLatency.Percentiles();

    /// <summary>A mark of the store latencies so far, for <see cref="StoreLatencySince"/>.</summary>
    public long[] MarkStoreLatency() => _latency.Mark();

    /// <summary>Store latency percentiles of the posts stored after <paramref name="mark"/> (progress lines: the last interval's).</summary>
    public (double P50, double P99, long Count) StoreLatencySince(long[] mark) => _latency.Since(mark);

    /// <summary>
    /// Stage-state checkpoints taken, and the last one's cost: serialisation time in all, the part of it the analysis
    /// waited for (the capture; the rest is encoded on another thread), bytes.
    /// </summary>
    public long StateSaves => Interlocked.Read(ref _stateSaves);
    public TimeSpan LastStateSaveTime => TimeSpan.FromTicks(Interlocked.Read(ref _lastStateSaveTicks));
    public TimeSpan LastStateHoldTime => TimeSpan.FromTicks(Interlocked.Read(ref _lastStateHoldTicks));
    /// <summary>The longest time any checkpoint held the analysis, and the sum over all (what checkpoints cost the stream).</summary>
    public TimeSpan LongestStateHoldTime => TimeSpan.FromTicks(Interlocked.Read(ref _longestStateHoldTicks));
    public TimeSpan TotalStateHoldTime => TimeSpan.FromTicks(Interlocked.Read(ref _totalStateHoldTicks));
    public long LastStateBytes => Interlocked.Read(ref _lastStateBytes);

    internal void RecordStateSave(TimeSpan held, TimeSpan took, long bytes)
    {
        Interlocked.Increment(ref _stateSaves);
        Interlocked.Exchange(ref _lastStateHoldTicks, held.Ticks);
        Interlocked.Add(ref _totalStateHoldTicks, held.Ticks);
        var longest = Interlocked.Read(ref _longestStateHoldTicks);
        while (held.Ticks > longest)
        {
            var seen = Interlocked.CompareExchange(ref _longestStateHoldTicks, held.Ticks, longest);
            if (seen == longest) break;
            longest = seen;
        }
        Interlocked.Exchange(ref _lastStateSaveTicks, took.Ticks);
        Interlocked.Exchange(ref _lastStateBytes, bytes);
    }

    internal void AddRead(long n) => Interlocked.Add(ref _read, n);
    internal void AddDecoded(long n) => Interlocked.Add(ref _decoded, n);
    internal void AddDeadLettered(long n) => Interlocked.Add(ref _deadLettered, n);
    internal void AddClassified(long n, long flagged) { Interlocked.Add(ref _classified, n); Interlocked.Add(ref _flagged, flagged); }
    internal void AddStored(long n) { Interlocked.Add(ref _stored, n); Interlocked.Increment(ref _batchesStored); }
    internal void AddAlerts(long n) => Interlocked.Add(ref _alerts, n);
    internal void SetEventTime(DateTimeOffset t) => Interlocked.Exchange(ref _eventTimeTicks, t.UtcTicks);
    internal void RecordLatency(long readTimestamp, long now) => _latency.Record(Stopwatch.GetElapsedTime(readTimestamp, now).TotalMilliseconds);
    internal void RecordAlertLatency(long readTimestamp, long now) => _alertLatency.Record(Stopwatch.GetElapsedTime(readTimestamp, now).TotalMilliseconds);
}

/// <summary>A fixed-size log-scale latency histogram (0.01 ms .. ~100 s) with percentile read-out.</summary>
internal sealed class LatencyRecorder
{
    private readonly long[] _buckets = new long[256];
    private long _count;

    public void Record(double ms)
    {
        var b = ms <= 0.01 ? 0 : (int)Math.Min(255, Math.Log(ms / 0.01) / Math.Log(1.07));
        Interlocked.Increment(ref _buckets[b]);
        Interlocked.Increment(ref _count);
    }

    public (double P50, double P99, long Count) Percentiles() => Since(null);

    /// <summary>The bucket counts now, to pass to <see cref="Since"/> later.</summary>
    public long[] Mark()
    {
        var mark = new long[_buckets.Length];
        for (var i = 0; i < mark.Length; i++) mark[i] = Interlocked.Read(ref _buckets[i]);
        return mark;
    }

    /// <summary>Percentiles of the latencies recorded after <paramref name="mark"/> (all of them when null).</summary>
    public (double P50, double P99, long Count) Since(long[]? mark)
    {
        var counts = Mark();
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (mark is not null) counts[i] -= mark[i];
            total += counts[i];
        }
        if (total == 0) return (0, 0, 0);
        return (At(total * 0.50), At(total * 0.99), total);

        double At(double rank)
        {
            long seen = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                seen += counts[i];
                if (seen >= rank) return 0.01 * Math.Pow(1.07, i + 1);
            }
            return double.PositiveInfinity;
        }
    }
}
