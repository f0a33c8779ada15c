using System.Diagnostics.Tracing;

namespace EarlyWarning.EndToEnd;

/// <summary>
/// Counts garbage collections by generation and by the runtime's reason, from the runtime's own GCStart events
/// (provider <c>Microsoft-Windows-DotNETRuntime</c>, GC keyword 0x1): why the collector chose to run, which the
/// collection counts alone do not say. At verbose level the same keyword also gives GCAllocationTick events (one per
/// ~100 KB allocated, with the type that crossed the mark): the large-object ticks, by type, say what fills the
/// large-object heap, whose budget starts full collections. The same keyword's GCSuspendEEBegin and GCRestartEEEnd
/// events bound each pause: the time between them, by the deepest generation collected inside, says which collections
/// hold the program up (and so make the latency tail), which a total pause time does not.
/// </summary>
internal sealed class GcReasons : EventListener
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<(int Generation, string Reason), int> _counts = [];
    private readonly Dictionary<string, long> _largeBytes = [];
    private readonly Dictionary<string, long> _smallBytes = [];
    private readonly Dictionary<int, (int Count, double TotalMs, double MaxMs)> _pauses = [];
    private DateTime _suspendedAt;
    private int _pauseGeneration = -1;
    private bool _listening = true;

    // The reason codes of the runtime's GCStart event (gcinterface.h, gc_reason).
    private static readonly string[] Names =
    [
        "small-object allocation", "induced", "low memory", "empty", "large-object allocation", "out of space (SOH)",
        "out of space (LOH)", "induced, not forced", "internal tuning", "induced low memory", "induced compacting",
        "low memory (host)", "provisional-mode full", "low memory (host, blocking)", "BGC tuning (SOH)", "BGC tuning (LOH)",
        "BGC stepping", "induced aggressive",
    ];

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeProvider) EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_listening || e.EventName is null || e.Payload is null) return;
        if (e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            // AllocationKind 0 = small objects, 1 = large object heap; AllocationAmount64 = bytes since the last tick
            // of this kind, all charged to the type whose allocation crossed the mark (a sample: the types that
            // allocate most cross it most often).
            var kind = PayloadInt(e, "AllocationKind");
            if (kind is not (0 or 1)) return;
            var i = e.PayloadNames?.IndexOf("AllocationAmount64") ?? -1;
            var bytes = i < 0 || e.Payload[i] is not { } a ? 0L : Convert.ToInt64(a, System.Globalization.CultureInfo.InvariantCulture);
            var t = e.PayloadNames?.IndexOf("TypeName") ?? -1;
            var type = t < 0 ? "?" : e.Payload[t] as string ?? "?";
            var into = kind == 1 ? _largeBytes : _smallBytes;
            lock (_counts) into[type] = into.GetValueOrDefault(type) + bytes;
            return;
        }
        if (e.EventName.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
        {
            lock (_counts)
            {
                _suspendedAt = e.TimeStamp;
                _pauseGeneration = -1;
            }
            return;
        }
        if (e.EventName.StartsWith("GCRestartEEEnd", StringComparison.Ordinal))
        {
            lock (_counts)
            {
                if (_suspendedAt == default) return;
                var ms = (e.TimeStamp - _suspendedAt).TotalMilliseconds;
                _suspendedAt = default;
                var (count, total, max) = _pauses.GetValueOrDefault(_pauseGeneration);
                _pauses[_pauseGeneration] = (count + 1, total + ms, Math.Max(max, ms));
            }
            return;
        }
        if (!e.EventName.StartsWith("GCStart", StringComparison.Ordinal)) return;
        var depth = PayloadInt(e, "Depth");
        var reason = PayloadInt(e, "Reason");
        if (depth < 0 || reason < 0) return;
        var name = reason < Names.Length ? Names[reason] : "reason " + reason;
        lock (_counts)
        {
            _counts[(depth, name)] = _counts.GetValueOrDefault((depth, name)) + 1;
            if (_suspendedAt != default) _pauseGeneration = Math.Max(_pauseGeneration, depth);
        }
    }

    private static int PayloadInt(EventWrittenEventArgs e, string name)
    {
        var i = e.PayloadNames?.IndexOf(name) ?? -1;
        return i < 0 || e.Payload![i] is not { } v ? -1 : Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Stops counting (events still arriving afterwards are ignored).</summary>
    public void Stop() => _listening = false;

    /// <summary>Counts per generation and reason, e.g. <c>gen 2: 30 large-object allocation, 4 small-object allocation</c>.</summary>
    public string Describe()
    {
        lock (_counts)
        {
            if (_counts.Count == 0) return "no GCStart events seen";
            var reasons = string.Join("; ", _counts.GroupBy(kv => kv.Key.Generation).OrderBy(g => g.Key).Select(g =>
                $"gen {g.Key}: " + string.Join(", ", g.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value} {kv.Key.Reason}"))));
            if (_pauses.Count > 0)
                reasons += "; pauses: " + string.Join(", ", _pauses.OrderBy(kv => kv.Key).Select(kv => Program.Inv(
                    $"{(kv.Key < 0 ? "no collection" : "gen " + kv.Key)} {kv.Value.Count} × mean {kv.Value.TotalMs / kv.Value.Count:F0} ms, max {kv.Value.MaxMs:F0} ms, {kv.Value.TotalMs / 1000:F1} s in all")));
            if (_largeBytes.Count > 0)
            {
                var total = _largeBytes.Values.Sum();
                reasons += Program.Inv($"; large-object heap allocations {total / 1e6:N0} MB: ") + string.Join(", ", _largeBytes
                    .OrderByDescending(kv => kv.Value).Take(6).Select(kv => Program.Inv($"{kv.Key} {kv.Value / 1e6:N0} MB")));
            }
            if (_smallBytes.Count > 0)
            {
                var total = (double)_smallBytes.Values.Sum();
                reasons += "; small-object allocations sampled by type: " + string.Join(", ", _smallBytes
                    .OrderByDescending(kv => kv.Value).Take(16).Select(kv => Program.Inv($"{kv.Key} {kv.Value / total:P1}")));
            }
            return reasons;
        }
    }
}
