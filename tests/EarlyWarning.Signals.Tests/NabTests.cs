using System.Globalization;
using System.Text;
using EarlyWarning.Signals.Detection;
using EarlyWarning.Signals.Evaluation;
using EarlyWarning.Tests;
using Xunit.Abstractions;

namespace EarlyWarning.Signals.Tests;

/// <summary>The NAB scorer against NAB's own anchors, and the default detector's score on the shared realTweets half.</summary>
public sealed class NabTests(ITestOutputHelper log)
{
    private static List<NabFile> Data => NabData.RealTweets;

    /// <summary>Published per-file raw standard scores: (detector, file key) → score.</summary>
    private static Dictionary<(string, string), double> Published() =>
        File.ReadLines(TestPaths.Data("nab-realtweets", "nab_published_standard_scores_perfile.csv")).Skip(1)
            .Select(l => l.Split(','))
            .ToDictionary(p => (p[0], p[2]), p => double.Parse(p[4], CultureInfo.InvariantCulture));

    [Fact]
    public void No_detections_score_minus_one_per_window_and_reproduce_the_published_null_detector()
    {
        var published = Published();
        double total = 0;
        var windows = 0;
        foreach (var f in Data)
        {
            var s = NabScorer.Score(f.Times, new bool[f.Times.Count], f.Windows, NabScorer.Profile.Standard);
            Assert.Equal(-f.Windows.Count, s.RawScore, 12);
            Assert.Equal(published[("null", f.Key)], s.RawScore, 9);
            total += s.RawScore;
            windows += s.Windows;
        }
        Assert.Equal(15, windows);
        Assert.Equal(0, NabScorer.Normalise(total, -windows, windows), 12);
    }

    [Fact]
    public void A_detection_on_each_windows_first_row_scores_100()
    {
        double total = 0;
        var windows = 0;
        foreach (var f in Data)
        {
            var det = new bool[f.Times.Count];
            foreach (var (start, _) in f.Windows) det[f.Times.IndexOf(start)] = true;
            var s = NabScorer.Score(f.Times, det, f.Windows, NabScorer.Profile.Standard);
            Assert.Equal(f.Windows.Count, s.RawScore, 12);
            Assert.Equal(f.Windows.Count, s.DetectedWindows);
            total += s.RawScore;
            windows += s.Windows;
        }
        Assert.Equal(100, NabScorer.Normalise(total, -windows, windows), 9);
    }

    [Fact]
    public void Scorer_follows_the_nab_rules_on_a_small_example()
    {
        // 100 rows, probation 15; one window at rows 40..59 (width 20).
        var times = Enumerable.Range(0, 100).Select(i => new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(5 * i)).ToList();
        var win = new List<(DateTime, DateTime)> { (times[40], times[59]) };
        bool[] At(params int[] rows) { var d = new bool[100]; foreach (var r in rows) d[r] = true; return d; }
        var p = NabScorer.Profile.Standard;
        // Only the first detection inside a window counts; a detection in probation is ignored.
        Assert.Equal(NabScorer.Score(times, At(40), win, p).RawScore, NabScorer.Score(times, At(40, 45, 50, 5), win, p).RawScore, 12);
        // Later detection in the window earns less: sigma(-(59-50+1)/20) / sigma(-1).
        var mid = NabScorer.ScaledSigmoid(-0.5) / NabScorer.ScaledSigmoid(-1);
        Assert.Equal(mid, NabScorer.Score(times, At(50), win, p).RawScore, 12);
        // A false positive with no window before it costs A_FP; one just after a window costs less.
        Assert.Equal(-1 - 0.11, NabScorer.Score(times, At(20), win, p).RawScore, 12);
        var after = NabScorer.ScaledSigmoid((65 - 59) / 19.0) * 0.11;
        Assert.Equal(-1 + after, NabScorer.Score(times, At(65), win, p).RawScore, 12);
    }

    [Fact]
    public void Default_detector_score_on_the_shared_realtweets_half()
    {
        double total = 0;
        int windows = 0, detected = 0, falseAlarms = 0, scoredRows = 0;
        var lines = new List<string>();
        foreach (var f in Data)
        {
            var d = new SeasonalDetector();
            var det = new bool[f.Times.Count];
            for (var i = 0; i < det.Length; i++)
                det[i] = d.Observe(new DateTimeOffset(f.Times[i], TimeSpan.Zero), f.Values[i]).Alarm;
            var s = NabScorer.Score(f.Times, det, f.Windows, NabScorer.Profile.Standard);
            total += s.RawScore;
            windows += s.Windows;
            detected += s.DetectedWindows;
            falseAlarms += s.FalsePositiveRows;
            scoredRows += s.ScoredRows;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Key} | {s.RawScore:0.0000} | {s.DetectedWindows}/{s.Windows} | {s.FalsePositiveRows} | {1000.0 * s.FalsePositiveRows / s.ScoredRows:0.00} |"));
        }
        var normalised = NabScorer.Normalise(total, -windows, windows);
        var recall = (double)detected / windows;
        var fpk = 1000.0 * falseAlarms / scoredRows;
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"seasonal_negbin on NAB realTweets (5 shared files, standard profile, IN-SAMPLE): normalised {normalised:0.0}, raw {total:0.000}, window recall {detected}/{windows} = {recall:0.00}, false alarms {falseAlarms} = {fpk:0.00} per 1,000 scored points");
        log.WriteLine(summary);
        foreach (var l in lines) log.WriteLine(l);
        Assert.InRange(normalised, 0, 100);
        Assert.True(normalised > 50, "the default detector should beat NAB's null detector by a wide margin");

        if (Environment.GetEnvironmentVariable("EARLYWARNING_WRITE_RESULTS") == "1")
        {
            var sb = new StringBuilder();
            sb.AppendLine("# Signals: default detector on NAB realTweets (shared half)");
            sb.AppendLine();
            sb.AppendLine("Produced by `EARLYWARNING_WRITE_RESULTS=1 dotnet test tests/EarlyWarning.Signals.Tests -c Debug --filter Default_detector_score_on_the_shared_realtweets_half`.");
            sb.AppendLine("Detector: `SeasonalDetector` with default options (the `detect` command's default). Its options were tuned on these");
            sb.AppendLine("5 files only, so the score is IN-SAMPLE; the other half (holdout) has not been scored.");
            sb.AppendLine("Normalisation: NAB's exact rule as in `../shared/data/nab-realtweets/SOURCE.md` (S_null = -windows, S_perfect = +windows).");
            sb.AppendLine();
            sb.AppendLine(summary);
            sb.AppendLine();
            sb.AppendLine("| file | raw score | windows detected | false alarms | per 1,000 points |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var l in lines) sb.AppendLine(l);
            sb.AppendLine();
            sb.AppendLine("Published scores on the same 5 files with the same normalisation (SOURCE.md): contextOSE 86.1, ARTime 82.0,");
            sb.AppendLine("earthgeckoSkyline 72.0, numenta (HTM) 71.7, knncad 70.5, htmjava 67.9, twitterADVec 62.7, numentaTM 61.9,");
            sb.AppendLine("windowedGaussian 56.2, relativeEntropy 55.1, skyline 42.9, randomCutForest 42.7, expose 20.6, bayesChangePt 10.2.");
            var dir = Path.Combine(TestPaths.RepoRoot, "benchmarks", "results");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "signals.md"), sb.ToString());
        }
    }
}
