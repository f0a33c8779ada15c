using System.Globalization;
using System.Text;
using EarlyWarning.App.Simulation;

namespace EarlyWarning.EndToEnd;

/// <summary>
/// End-to-end harness (issue 10): a pre-generated simulator stream through the whole pipeline via the CLI, in
/// process, with the decode-only throughput of the same bytes measured in the same run as the reference ratio.
/// <code>
/// dotnet run -c Release --project benchmarks/EarlyWarning.EndToEnd -- [--posts 1000000] [--file PATH.jsonl]
///     [--modes flagged,all] [--breakdown 100000] [--breakdown-warm-up 0] [--work DIR] [--report PATH.md]
/// </code>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        HarnessOptions o;
        try { o = HarnessOptions.Parse(args); }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(HarnessOptions.Usage).ConfigureAwait(false);
            return 2;
        }
        Directory.CreateDirectory(o.WorkDir);
        var report = new StringBuilder();
        void Line(string s)
        {
            Console.WriteLine(s);
            report.AppendLine(s);
        }

        Line(Inv($"# End-to-end run, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z"));
        Line("");
        Line(Inv($"machine: {MachineInfo.Describe()}"));
        Line(Inv($"load average at start: {MachineInfo.LoadAverage()}"));
        Line(Inv($"command: dotnet run -c Release --project benchmarks/EarlyWarning.EndToEnd -- {string.Join(' ', args)}"));
        Line("");

        var file = o.File ?? Path.Combine(o.WorkDir, Inv($"election-day-seed1-{o.Posts}.jsonl"));
        if (!File.Exists(file))
        {
            var gen = StreamGenerator.Generate(file, o.Posts);
            Line(Inv($"generated {gen.Posts:N0} posts ({gen.Bytes / 1e6:F1} MB) in {gen.Seconds:F1} s -> {file}"));
        }
        var (lines, bytes) = StreamGenerator.Count(file);
        Line(Inv($"stream: {lines:N0} lines, {bytes / 1e6:F1} MB, {(double)bytes / Math.Max(1, lines):F0} B/post"));
        // Release what generation left behind so the samples below are the pipeline's.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        if (o.Breakdown > 0)
        {
            Line("");
            Line(o.BreakdownWarmUp == 0
                ? Inv($"## Per-stage breakdown (single thread, first {o.Breakdown:N0} posts, each stage timed alone)")
                : Inv($"## Per-stage breakdown (single thread, {o.Breakdown:N0} posts after {o.BreakdownWarmUp:N0} untimed, each stage timed alone)"));
            Line("");
            foreach (var l in await StageBreakdown.RunAsync(file, o.Breakdown, o.WorkDir, o.BreakdownWarmUp).ConfigureAwait(false)) Line(l);
        }

        Line("");
        Line("## Pipeline (CLI `run`, in process) vs decode-only of the same bytes");
        Line("");
        var decodeBefore = DecodeOnly.Run(file);
        Line(Inv($"decode-only (PostDecoder over every line, file read included), before: {decodeBefore.PostsPerSecond:N0} posts/s ({decodeBefore.Posts:N0} posts, {decodeBefore.Seconds:F2} s; {decodeBefore.PostsPerCpuSecond:N0} posts per CPU-second)"));
        var results = new List<RunResult>();
        foreach (var mode in o.Modes)
        {
            var r = await PipelineRun.RunAsync(file, mode, o.WorkDir).ConfigureAwait(false);
            results.Add(r);
            Line(r.Describe());
        }
        var decodeAfter = DecodeOnly.Run(file);
        Line(Inv($"decode-only, after: {decodeAfter.PostsPerSecond:N0} posts/s ({decodeAfter.Seconds:F2} s; {decodeAfter.PostsPerCpuSecond:N0} posts per CPU-second)"));
        var decodeRef = (decodeBefore.PostsPerSecond + decodeAfter.PostsPerSecond) / 2;
        var decodeCpuRef = (decodeBefore.PostsPerCpuSecond + decodeAfter.PostsPerCpuSecond) / 2;
        Line("");
        Line("| --store-posts | posts/s (CLI elapsed) | vs decode-only | posts per CPU-s | vs decode-only per CPU-s | p50 read→stored | p99 read→stored | p50 read→alert | p99 read→alert | peak working set | WS slope (2nd half) | managed heap slope | alerts | wall s |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            Line(Inv($"| {r.Mode} | {r.PostsPerSecond:N0} | {r.PostsPerSecond / decodeRef:P1} | {r.PostsPerCpuSecond:N0} | {r.PostsPerCpuSecond / decodeCpuRef:P1} | {r.P50Ms:F0} ms | {r.P99Ms:F0} ms | {r.AlertP50Ms:F0} ms | {r.AlertP99Ms:F0} ms | {r.Memory.PeakWorkingSetMb:F0} MB | {r.Memory.WorkingSetSlopeMbPer100k:+0.0;-0.0} MB/100k posts | {r.Memory.HeapSlopeMbPer100k:+0.0;-0.0} MB/100k posts | {r.AlertUpdates} | {r.WallSeconds:F1} |"));
        Line(Inv($"decode-only reference: {decodeRef:N0} posts/s (mean of before/after)"));
        Line(Inv($"load average at end: {MachineInfo.LoadAverage()}"));
        Line(Inv($"process peak working set (whole harness, includes decode passes): {Environment.WorkingSet / 1e6:F0} MB now, {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB peak"));

        if (o.ReportPath is { } rp)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(rp))!);
            await File.WriteAllTextAsync(rp, report.ToString()).ConfigureAwait(false);
            Console.WriteLine("report written to " + rp);
        }
        return results.All(r => r.ExitCode == 0) ? 0 : 1;
    }

    internal static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Command-line options of the harness.</summary>
internal sealed class HarnessOptions
{
    public const string Usage = "usage: EarlyWarning.EndToEnd [--posts N] [--file PATH.jsonl] [--modes flagged,all] [--breakdown N] [--breakdown-warm-up W] [--work DIR] [--report PATH.md]";

    public int Posts { get; private set; } = 1_000_000;
    public string? File { get; private set; }
    public string[] Modes { get; private set; } = ["flagged", "all"];
    public int Breakdown { get; private set; } = 100_000;
    /// <summary>Posts every stage of the breakdown takes untimed first (so the network stage's windows fill).</summary>
    public int BreakdownWarmUp { get; private set; }
    public string WorkDir { get; private set; } = Path.Combine(Path.GetTempPath(), "earlywarning-e2e");
    public string? ReportPath { get; private set; }

    public static HarnessOptions Parse(string[] args)
    {
        var o = new HarnessOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
            switch (args[i])
            {
                case "--posts": o.Posts = PositiveInt(Next()); break;
                case "--file": o.File = Path.GetFullPath(Next()); break;
                case "--modes":
                    o.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (o.Modes.Any(m => m is not ("flagged" or "all"))) throw new ArgumentException("--modes takes flagged and/or all");
                    break;
                case "--breakdown": o.Breakdown = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--breakdown-warm-up": o.BreakdownWarmUp = PositiveInt(Next()); break;
                case "--work": o.WorkDir = Path.GetFullPath(Next()); break;
                case "--report": o.ReportPath = Next(); break;
                default: throw new ArgumentException("unknown option " + args[i]);
            }
        }
        return o;
    }

    private static int PositiveInt(string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ArgumentException($"'{s}' is not a positive whole number");
}

/// <summary>Writes the simulator stream to a JSONL file once, outside any measurement.</summary>
internal static class StreamGenerator
{
    public static (long Posts, long Bytes, double Seconds) Generate(string path, int posts)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var sim = new Simulator("election-day", 1, posts);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            Simulator.WriteJsonl(sim.Generate(), fs);
        File.Move(tmp, path, overwrite: true);
        return (sim.Count, new FileInfo(path).Length, sw.Elapsed.TotalSeconds);
    }

    public static (long Lines, long Bytes) Count(string path)
    {
        long lines = 0;
        var buf = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        int n;
        while ((n = fs.Read(buf)) > 0) lines += buf.AsSpan(0, n).Count((byte)'\n');
        return (lines, fs.Length);
    }
}

/// <summary>Machine facts for the report.</summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Program.Inv($"{Environment.ProcessorCount} logical cores, {cpu}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, GC server={System.Runtime.GCSettings.IsServerGC}, latency mode {System.Runtime.GCSettings.LatencyMode}");
    }

    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
        catch (UnauthorizedAccessException) { return "n/a"; }
    }
}
