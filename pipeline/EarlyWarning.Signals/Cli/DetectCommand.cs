using System.Globalization;
using System.Text.Json;
using EarlyWarning.Signals.Detection;

namespace EarlyWarning.Signals.Cli;

/// <summary>
/// <c>earlywarning detect --input PATH.csv [--json]</c>: runs the default detector (<see cref="SeasonalDetector"/>,
/// tuned for 5-minute count buckets) over a <c>timestamp,value</c> CSV (header required; columns found by name).
/// Without <c>--json</c> it writes CSV <c>timestamp,value,score,alert</c>, one row per input row, timestamp and value
/// echoed as read, score = <c>-log10 p</c>, alert 0/1. A row that cannot be used (bad timestamp, value not a
/// finite number ≥ 0, missing column) is still written, with an empty score and alert 0, and its line number and
/// reason go to the error writer. With <c>--json</c> it writes instead one JSON object:
/// <c>{"input","detector","rows","alerts","alert_timestamps":[..],"max_score","rejected":[{"line","reason"}]}</c>.
/// Exit code 0 when the file was processed (even with rejected rows), 1 when it could not be read.
/// </summary>
public static class DetectCommand
{
    public static int Run(string csvPath, bool json, TextWriter output) => Run(csvPath, json, output, Console.Error);

    public static int Run(string csvPath, bool json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrEmpty(csvPath) || !File.Exists(csvPath))
        {
            error.WriteLine($"detect: input file not found: {csvPath}");
            return 1;
        }
        using var reader = new StreamReader(csvPath);
        var header = reader.ReadLine();
        if (header is null)
        {
            error.WriteLine("detect: input is empty (a header 'timestamp,value' is required)");
            return 1;
        }
        var cols = header.Split(',').Select(c => c.Trim().Trim('"').ToLowerInvariant()).ToList();
        var ti = cols.IndexOf("timestamp");
        var vi = cols.IndexOf("value");
        if (ti < 0 || vi < 0)
        {
            error.WriteLine("detect: header must name columns 'timestamp' and 'value'");
            return 1;
        }
        var detector = new SeasonalDetector();
        var rejected = new List<(int Line, string Reason)>();
        var alertTimes = new List<string>();
        int rows = 0, alerts = 0;
        double maxScore = 0;
        if (!json) output.WriteLine("timestamp,value,score,alert");
        string? line;
        var lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            rows++;
            var f = line.Split(',');
            var ts = ti < f.Length ? f[ti].Trim() : "";
            var vs = vi < f.Length ? f[vi].Trim() : "";
            string? reason = null;
            DetectorResult r = default;
            if (ti >= f.Length || vi >= f.Length) reason = "missing column";
            else if (!DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                reason = "bad timestamp";
            else if (!double.TryParse(vs, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                reason = "value is not a number";
            else
            {
                r = detector.Observe(time, value);
                reason = r.Rejected;
            }
            if (reason is not null)
            {
                rejected.Add((lineNo, reason));
                if (!json) error.WriteLine($"detect: line {lineNo}: {reason}");
                if (!json) output.WriteLine($"{ts},{vs},,0");
                continue;
            }
            if (r.Alarm) { alerts++; alertTimes.Add(ts); }
            maxScore = Math.Max(maxScore, r.Score);
            if (!json) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ts},{vs},{r.Score:0.######},{(r.Alarm ? 1 : 0)}"));
        }
        if (json)
        {
            var summary = new Dictionary<string, object>
            {
                ["input"] = csvPath,
                ["detector"] = detector.Name,
                ["rows"] = rows,
                ["alerts"] = alerts,
                ["alert_timestamps"] = alertTimes,
                ["max_score"] = Math.Round(maxScore, 6),
                ["rejected"] = rejected.Select(x => new Dictionary<string, object> { ["line"] = x.Line, ["reason"] = x.Reason }).ToList(),
            };
            output.WriteLine(JsonSerializer.Serialize(summary));
        }
        return 0;
    }
}
