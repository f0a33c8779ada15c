using System.Text.RegularExpressions;
using EarlyWarning.Tests;

namespace EarlyWarning.Benchmarks.Tests;

/// <summary>
/// Smoke test of the end-to-end harness on a small stream: it must run the CLI pipeline, parse its summary line and
/// write a report; if the CLI's summary format changes, this fails instead of the harness reporting zeros.
/// </summary>
public sealed class EndToEndHarnessTests
{
    [Fact]
    public async Task Harness_runs_the_cli_pipeline_and_reports_rates_latency_and_memory()
    {
        var dir = TestPaths.NewTempDir("ew-e2e-smoke");
        try
        {
            var report = Path.Combine(dir, "report.md");
            var exit = await EndToEnd.Program.Main(["--posts", "3000", "--modes", "flagged", "--breakdown", "500", "--work", dir, "--report", report]);
            Assert.Equal(0, exit);
            var text = await File.ReadAllTextAsync(report);
            var row = Regex.Match(text, @"^\| flagged \| ([\d,]+) \| ([\d.]+) % \| ([\d,]+) \|", RegexOptions.Multiline);
            Assert.True(row.Success, "no result row for --store-posts flagged in the report");
            Assert.True(long.Parse(row.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture) > 0, "zero posts/s");
            var read = Regex.Match(text, @"--store-posts flagged: exit 0, read ([\d,]+)");
            Assert.True(read.Success, "the flagged run did not exit 0");
            // The simulator scales its plan to about the requested volume; every post it wrote must have been read.
            Assert.InRange(long.Parse(read.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), 2_500, 3_500);
            Assert.Contains("| decode (PostDecoder.TryDecode) |", text, StringComparison.Ordinal);
            Assert.Contains("decode-only reference:", text, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }
}
