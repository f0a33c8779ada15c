using System.Globalization;
using System.Text.Json;

namespace EarlyWarning.Signals.Evaluation;

/// <summary>
/// The Numenta Anomaly Benchmark scoring rules, re-implemented from their published definition: inside a labelled
/// window a detection earns <c>A_TP · σ(pos) / σ(-1)</c> with the scaled sigmoid <c>σ(y) = 2/(1+e^{5y}) − 1</c>
/// (only the best, i.e. first, detection of a window counts); a window without detection costs <c>A_FN</c>; a
/// detection outside every window costs <c>A_FP · σ(distance past the previous window)</c> (−A_FP when there is no
/// previous window or it is 3+ window widths away). The first 15% of a file (at most 750 rows) is probationary and
/// not scored. Corpus normalisation: <c>100 · (S − S_null) / (S_perfect − S_null)</c>.
/// </summary>
public static class NabScorer
{
    /// <summary>Application profile weights (NAB "standard": A_TP = 1, A_FP = 0.11, A_FN = 1, signs applied by the scorer).</summary>
    public sealed record Profile(double TpWeight, double FpWeight, double FnWeight)
    {
        public static Profile Standard { get; } = new(1.0, 0.11, 1.0);
    }

    /// <summary>Score of one file.</summary>
    /// <param name="RawScore">NAB's raw score for the file.</param>
    /// <param name="Windows">Windows that have at least one scored (post-probation) row.</param>
    /// <param name="DetectedWindows">Of those, windows with at least one detection.</param>
    /// <param name="TruePositiveRows">Detected rows inside windows.</param>
    /// <param name="FalsePositiveRows">Detected rows outside windows (after probation).</param>
    /// <param name="ScoredRows">Rows after the probationary period.</param>
    public sealed record FileScore(double RawScore, int Windows, int DetectedWindows, int TruePositiveRows, int FalsePositiveRows, int ScoredRows);

    /// <summary>The scaled sigmoid of a relative position (−1 = window start, 0 = window end, &gt;0 past it).</summary>
    public static double ScaledSigmoid(double position) =>
        position >= 3.0 ? -1.0 : 2.0 / (1.0 + Math.Exp(5.0 * position)) - 1.0;

    /// <summary>Probationary rows: 15% of the file, at most 750.</summary>
    public static int ProbationaryRows(int rows) => (int)Math.Min(Math.Floor(0.15 * rows), 0.15 * 5000);

    /// <summary>Scores one file's detections. Windows are matched to rows by exact timestamp, as NAB does.</summary>
    public static FileScore Score(IReadOnlyList<DateTime> timestamps, IReadOnlyList<bool> detections,
        IReadOnlyList<(DateTime Start, DateTime End)> windows, Profile profile)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(profile);
        if (timestamps.Count != detections.Count) throw new ArgumentException("timestamps and detections differ in length", nameof(detections));
        var index = new Dictionary<DateTime, int>();
        for (var i = 0; i < timestamps.Count; i++) index.TryAdd(timestamps[i], i);
        var bounds = new List<(int Left, int Right)>();
        foreach (var (s, e) in windows.OrderBy(w => w.Start))
        {
            if (!index.TryGetValue(s, out var l) || !index.TryGetValue(e, out var r))
                throw new ArgumentException($"window {s:O}..{e:O} does not start and end on rows of the file", nameof(windows));
            bounds.Add((l, r));
        }
        var maxTp = ScaledSigmoid(-1.0);
        var probation = ProbationaryRows(timestamps.Count);
        var best = new double?[bounds.Count];
        var scored = new bool[bounds.Count];
        double fp = 0;
        int tpRows = 0, fpRows = 0, w = 0;
        int prevRight = -1, prevWidth = 0;
        for (var i = 0; i < timestamps.Count; i++)
        {
            var inWindow = w < bounds.Count && i >= bounds[w].Left && i <= bounds[w].Right;
            if (i >= probation)
            {
                if (inWindow) scored[w] = true;
                if (detections[i])
                {
                    if (inWindow)
                    {
                        var width = bounds[w].Right - bounds[w].Left + 1.0;
                        var pos = -(bounds[w].Right - i + 1) / width;
                        var v = ScaledSigmoid(pos) * profile.TpWeight / maxTp;
                        best[w] = best[w] is { } b ? Math.Max(b, v) : v;
                        tpRows++;
                    }
                    else
                    {
                        var pos = prevRight < 0 ? 3.0 : Math.Abs(prevRight - i) / (prevWidth - 1.0);
                        fp += ScaledSigmoid(pos) * profile.FpWeight;
                        fpRows++;
                    }
                }
            }
            if (inWindow && i == bounds[w].Right)
            {
                prevRight = i;
                prevWidth = bounds[w].Right - bounds[w].Left + 1;
                w++;
            }
        }
        double total = fp;
        int windowsScored = 0, detected = 0;
        for (var k = 0; k < bounds.Count; k++)
        {
            if (!scored[k]) continue;
            windowsScored++;
            if (best[k] is { } b) { total += Math.Max(b, -profile.FnWeight); detected++; }
            else total -= profile.FnWeight;
        }
        return new FileScore(total, windowsScored, detected, tpRows, fpRows, timestamps.Count - probation);
    }

    /// <summary>NAB's corpus normalisation.</summary>
    public static double Normalise(double raw, double nullRaw, double perfectRaw) => 100.0 * (raw - nullRaw) / (perfectRaw - nullRaw);

    /// <summary>Reads NAB's <c>combined_windows.json</c>: file key → windows.</summary>
    public static Dictionary<string, List<(DateTime Start, DateTime End)>> LoadWindows(string json)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, List<List<string>>>>(json) ?? [];
        var result = new Dictionary<string, List<(DateTime, DateTime)>>(StringComparer.Ordinal);
        foreach (var (key, list) in raw)
            result[key] = list.Select(w => (ParseTime(w[0]), ParseTime(w[1]))).ToList();
        return result;
    }

    /// <summary>Parses NAB timestamps (<c>2015-03-03 04:37:53</c>, optionally with fractional seconds) as UTC.</summary>
    public static DateTime ParseTime(string s) =>
        DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}
