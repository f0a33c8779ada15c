using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace EarlyWarning.App.Observability;

/// <summary>
/// A small Prometheus text-format (0.0.4) exporter over <see cref="MeterListener"/>: it listens to the named meters,
/// keeps cumulative state per instrument and label set, and renders it on each scrape (observable instruments are
/// polled then). Counters become <c>NAME_total</c>, histograms <c>NAME_bucket/_sum/_count</c>, gauges <c>NAME</c>;
/// a unit in the instrument becomes a name suffix (<c>ms</c> → <c>_milliseconds</c>). Thread-safe.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _meters;
    private readonly Dictionary<Instrument, Series> _series = [];
    private readonly object _scrapeLock = new();

    /// <param name="meterNames">Meters to export (default: <see cref="PipelineMetrics.MeterName"/>).</param>
    public PrometheusExporter(params string[] meterNames)
    {
        _meters = new HashSet<string>(meterNames.Length == 0 ? [PipelineMetrics.MeterName] : meterNames, StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!_meters.Contains(instrument.Meter.Name)) return;
            lock (_series) _series[instrument] = new Series(instrument);
            listener.EnableMeasurementEvents(instrument, _series[instrument]);
        };
        _listener.MeasurementsCompleted = (instrument, _) => { lock (_series) _series.Remove(instrument); };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.Start();
    }

    /// <summary>The content type of <see cref="Scrape"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Polls observable instruments and renders every series in the Prometheus text format.</summary>
    public string Scrape()
    {
        lock (_scrapeLock)
        {
            Series[] all;
            lock (_series) all = [.. _series.Values];
            foreach (var s in all) s.BeginScrape();
            _listener.RecordObservableInstruments();
            var sb = new StringBuilder();
            foreach (var s in all.OrderBy(s => s.Name, StringComparer.Ordinal)) s.Render(sb);
            return sb.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Converts an instrument name and unit into a Prometheus metric name.</summary>
    public static string MetricName(string name, string? unit)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder(name.Length + 16);
        foreach (var ch in name) sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '_' or ':' ? ch : '_');
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0])) sb.Insert(0, '_');
        var suffix = unit switch
        {
            "ms" => "milliseconds",
            "s" => "seconds",
            "By" => "bytes",
            null or "" => null,
            _ when unit.StartsWith('{') => null, // annotations such as {post} carry no unit
            _ => new string([.. unit.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]),
        };
        if (suffix is not null && !sb.ToString().EndsWith("_" + suffix, StringComparison.Ordinal)) sb.Append('_').Append(suffix);
        return sb.ToString();
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Format(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    private sealed class Series(Instrument instrument)
    {
        private enum Kind { Counter, ObservedCounter, Gauge, Histogram }

        private readonly Kind _kind = instrument switch
        {
            _ when instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal) => Kind.ObservedCounter,
            _ when instrument.GetType().Name.StartsWith("ObservableUpDownCounter", StringComparison.Ordinal) => Kind.Gauge,
            _ when instrument.GetType().Name.StartsWith("ObservableGauge", StringComparison.Ordinal) => Kind.Gauge,
            _ when instrument.GetType().Name.StartsWith("Gauge", StringComparison.Ordinal) => Kind.Gauge,
            _ when instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal) => Kind.Histogram,
            _ when instrument.GetType().Name.StartsWith("UpDownCounter", StringComparison.Ordinal) => Kind.Gauge,
            _ => Kind.Counter,
        };
        private readonly double[] _bounds = HistogramBounds(instrument);
        private readonly Dictionary<string, Point> _points = new(StringComparer.Ordinal);
        private readonly HashSet<string> _seenThisScrape = new(StringComparer.Ordinal);

        public string Name { get; } = MetricName(instrument.Name, instrument.Unit);

        private static double[] HistogramBounds(Instrument i) =>
            i is Histogram<double> { Advice.HistogramBucketBoundaries: { } b } ? [.. b]
            : i is Histogram<long> { Advice.HistogramBucketBoundaries: { } lb } ? [.. lb.Select(x => (double)x)]
            : [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

        public void BeginScrape()
        {
            lock (_points) _seenThisScrape.Clear();
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_points)
            {
                if (!_points.TryGetValue(labels, out var p)) _points[labels] = p = new Point(_kind == Kind.Histogram ? _bounds.Length + 1 : 0);
                switch (_kind)
                {
                    case Kind.Counter: p.Value += value; break;
                    case Kind.ObservedCounter or Kind.Gauge:
                        // Several measurements with the same labels in one poll add up (e.g. per-partition values reported twice).
                        p.Value = _seenThisScrape.Add(labels) ? value : p.Value + value;
                        break;
                    case Kind.Histogram:
                        var b = 0;
                        while (b < _bounds.Length && value > _bounds[b]) b++;
                        p.Buckets![b]++;
                        p.Sum += value;
                        p.Count++;
                        break;
                }
            }
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0) return "";
            var list = new List<KeyValuePair<string, object?>>(tags.Length);
            foreach (var t in tags) list.Add(t);
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            return string.Join(',', list.Select(t => $"{MetricName(t.Key, null)}=\"{Escape(Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "")}\""));
        }

        public void Render(StringBuilder sb)
        {
            lock (_points)
            {
                if (_points.Count == 0) return;
                var type = _kind switch { Kind.Counter or Kind.ObservedCounter => "counter", Kind.Histogram => "histogram", _ => "gauge" };
                if (!string.IsNullOrEmpty(instrument.Description)) sb.Append("# HELP ").Append(Name).Append(' ').Append(instrument.Description.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
                sb.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
                foreach (var (labels, p) in _points.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    // An observable whose callback stopped reporting a label set has no current value for it.
                    if (_kind is Kind.ObservedCounter or Kind.Gauge && !_seenThisScrape.Contains(labels)) continue;
                    if (_kind == Kind.Histogram)
                    {
                        long cumulative = 0;
                        for (var b = 0; b <= _bounds.Length; b++)
                        {
                            cumulative += p.Buckets![b];
                            var le = b < _bounds.Length ? Format(_bounds[b]) : "+Inf";
                            sb.Append(Name).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append("\"} ")
                                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                        }
                        Line(sb, Name + "_sum", labels, p.Sum);
                        Line(sb, Name + "_count", labels, p.Count);
                    }
                    else Line(sb, _kind is Kind.Counter or Kind.ObservedCounter ? Name + "_total" : Name, labels, p.Value);
                }
            }
        }

        private static void Line(StringBuilder sb, string name, string labels, double value)
        {
            sb.Append(name);
            if (labels.Length > 0) sb.Append('{').Append(labels).Append('}');
            sb.Append(' ').Append(Format(value)).Append('\n');
        }

        private sealed class Point(int buckets)
        {
            public double Value;
            public double Sum;
            public long Count;
            public long[]? Buckets = buckets > 0 ? new long[buckets] : null;
        }
    }
}
