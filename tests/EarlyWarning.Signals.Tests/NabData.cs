using System.Globalization;
using EarlyWarning.Signals.Evaluation;
using EarlyWarning.Tests;

namespace EarlyWarning.Signals.Tests;

/// <summary>One NAB realTweets file: timestamps, values and its labelled anomaly windows.</summary>
internal sealed record NabFile(string Key, List<DateTime> Times, List<double> Values, List<(DateTime Start, DateTime End)> Windows);

/// <summary>The shared half of NAB's realTweets (five files), read once from <c>../shared/data/nab-realtweets</c>.</summary>
internal static class NabData
{
    private static readonly string[] Names = ["AAPL", "CRM", "FB", "IBM", "PFE"];

    private static readonly Lazy<List<NabFile>> Lazy = new(() =>
    {
        var windows = NabScorer.LoadWindows(File.ReadAllText(TestPaths.Data("nab-realtweets", "combined_windows.json")));
        var list = new List<NabFile>();
        foreach (var f in Names)
        {
            var key = $"realTweets/Twitter_volume_{f}.csv";
            var times = new List<DateTime>();
            var values = new List<double>();
            foreach (var line in File.ReadLines(TestPaths.Data("nab-realtweets", "realTweets", $"Twitter_volume_{f}.csv")).Skip(1))
            {
                var parts = line.Split(',');
                times.Add(NabScorer.ParseTime(parts[0]));
                values.Add(double.Parse(parts[1], CultureInfo.InvariantCulture));
            }
            list.Add(new NabFile(key, times, values, windows[key]));
        }
        return list;
    });

    public static List<NabFile> RealTweets => Lazy.Value;
}
