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
            // The garbage collector's share is reported per run: a pipeline run allocates, so zero would mean it was not measured.
            var gc = Regex.Match(text, @"GC: (\d+) gen-0, (\d+) gen-1, (\d+) gen-2 collections, paused [\d.]+ s \([\d.]+ % of wall\), allocated ([\d,]+) B/post");
            Assert.True(gc.Success, "no GC figures for the flagged run");
            Assert.True(long.Parse(gc.Groups[4].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture) > 0, "zero bytes allocated per post");
            // Followed by why they ran (the runtime's GCStart reasons; events arrive asynchronously, so a short run may
            // end before any is delivered, and says so).
            Assert.Matches(@"allocated [\d,]+ B/post \((gen \d: \d+ [a-z]|no GCStart events seen)", text);
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

    [Fact]
    public async Task Breakdown_times_only_the_posts_after_its_warm_up()
    {
        var dir = TestPaths.NewTempDir("ew-e2e-breakdown");
        try
        {
            var file = Path.Combine(dir, "stream.jsonl");
            EndToEnd.StreamGenerator.Generate(file, 2_000);
            var lines = File.ReadLines(file).Count();
            var warm = await EndToEnd.StageBreakdown.RunAsync(file, 600, dir, warm: 1_000);
            var cold = await EndToEnd.StageBreakdown.RunAsync(file, 600, dir);
            // Each stage reports posts after the warm-up only: 600 lines timed, whatever came before.
            var head = Regex.Match(warm[0], @"^([\d,]+) posts decoded of 600 lines timed, after ([\d,]+) posts of warm-up");
            Assert.True(head.Success, warm[0]);
            Assert.InRange(int.Parse(head.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), 550, 600);
            Assert.InRange(int.Parse(head.Groups[2].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), 900, 1_000);
            Assert.Matches(@"^[\d,]+ posts decoded of 600 lines timed, after 0 posts of warm-up", cold[0]);
            Assert.True(lines >= 1_600, $"the stream has {lines} lines");
            foreach (var table in new[] { warm, cold })
                Assert.Contains(table, l => l.StartsWith("| network (NetworkEngine.Observe + DrainSignals) |", StringComparison.Ordinal));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    [Fact]
    public async Task Gc_pauses_are_timed_and_attributed_to_the_deepest_generation_collected()
    {
        using var gc = new EndToEnd.GcReasons();
        for (var i = 0; i < 3; i++) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        // Runtime events reach an in-process listener asynchronously: wait for the induced full collections' pauses.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        Match pause;
        do
        {
            await Task.Delay(100);
            pause = Regex.Match(gc.Describe(), @"gen 2 (\d+) × mean (\d+) ms, max (\d+) ms");
        }
        while ((!pause.Success || int.Parse(pause.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 3) && DateTime.UtcNow < deadline);
        Assert.True(pause.Success, "no gen-2 pause reported: " + gc.Describe());
        Assert.True(int.Parse(pause.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 3, gc.Describe());
        Assert.True(int.Parse(pause.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) <= int.Parse(pause.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Matches(@"gen 2: \d+ induced", gc.Describe());
    }

    [Theory]
    [InlineData("ServerGarbageCollection")]
    [InlineData("ConcurrentGarbageCollection")]
    public void Harness_runs_with_the_garbage_collector_settings_of_the_earlywarning_executable(string setting)
    {
        // The harness runs the CLI in its own process, so its figures are the app's only if the GC is configured alike.
        static string? Read(string project, string name) =>
            System.Xml.Linq.XDocument.Load(Path.Combine(TestPaths.RepoRoot, project)).Descendants(name).SingleOrDefault()?.Value.Trim();
        var app = Read("pipeline/EarlyWarning.App/EarlyWarning.App.csproj", setting);
        Assert.NotNull(app);
        Assert.Equal(app, Read("benchmarks/EarlyWarning.EndToEnd/EarlyWarning.EndToEnd.csproj", setting));
    }
}
