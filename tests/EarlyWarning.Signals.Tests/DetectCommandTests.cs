using System.Globalization;
using System.Text.Json;
using EarlyWarning.Signals.Cli;
using EarlyWarning.Tests;

namespace EarlyWarning.Signals.Tests;

public sealed class DetectCommandTests
{
    private static string WriteSeries(string dir, Func<int, string> row, int n, string header = "timestamp,value")
    {
        var path = Path.Combine(dir, "series.csv");
        File.WriteAllLines(path, new[] { header }.Concat(Enumerable.Range(0, n).Select(row)));
        return path;
    }

    private static string Row(int i, double v) =>
        string.Create(CultureInfo.InvariantCulture, $"{new DateTime(2026, 11, 1, 0, 0, 0).AddMinutes(5 * i):yyyy-MM-dd HH:mm:ss},{v}");

    [Fact]
    public void Writes_one_row_per_input_row_and_flags_an_injected_spike()
    {
        var rng = new Random(7);
        var path = WriteSeries(TestPaths.NewTempDir(), i => Row(i, i is >= 1500 and < 1505 ? 400 : Synthetic.Poisson(rng, 30)), 2000);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, DetectCommand.Run(path, false, output, error));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("timestamp,value,score,alert", lines[0]);
        Assert.Equal(2001, lines.Length);
        var alerts = lines.Skip(1).Select((l, i) => (i, l.Split(',')[3])).Where(x => x.Item2 == "1").Select(x => x.i).ToList();
        Assert.Contains(1500, alerts);
        Assert.True(alerts.Count <= 3, $"{alerts.Count} alerts");
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public void Bad_rows_are_kept_reported_with_a_reason_and_summarised_in_json()
    {
        var path = WriteSeries(TestPaths.NewTempDir(), i => i switch
        {
            10 => "not-a-time,5",
            20 => Row(20, 0).Split(',')[0] + ",abc",
            30 => Row(30, -3),
            40 => "2026-11-01 03:20:00",
            _ => Row(i, 10),
        }, 100);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, DetectCommand.Run(path, false, output, error));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(101, lines.Length);
        Assert.Equal("not-a-time,5,,0", lines[11]);
        var err = error.ToString();
        Assert.Contains("line 12: bad timestamp", err, StringComparison.Ordinal);
        Assert.Contains("line 22: value is not a number", err, StringComparison.Ordinal);
        Assert.Contains("line 32: value is negative", err, StringComparison.Ordinal);
        Assert.Contains("line 42: missing column", err, StringComparison.Ordinal);

        var json = new StringWriter();
        Assert.Equal(0, DetectCommand.Run(path, true, json, TextWriter.Null));
        using var doc = JsonDocument.Parse(json.ToString());
        Assert.Equal(100, doc.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("rejected").GetArrayLength());
        Assert.Equal("seasonal_negbin", doc.RootElement.GetProperty("detector").GetString());
    }

    [Fact]
    public void Missing_file_or_header_fails_with_exit_code_1()
    {
        var error = new StringWriter();
        Assert.Equal(1, DetectCommand.Run("/nonexistent/x.csv", false, TextWriter.Null, error));
        Assert.Contains("not found", error.ToString(), StringComparison.Ordinal);
        var path = WriteSeries(TestPaths.NewTempDir(), i => Row(i, 1), 3, header: "time,count");
        Assert.Equal(1, DetectCommand.Run(path, false, TextWriter.Null, TextWriter.Null));
    }
}
