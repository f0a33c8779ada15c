using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EarlyWarning.App;

namespace EarlyWarning.EndToEnd;

/// <summary>What one CLI <c>run</c> over the stream measured.</summary>
internal sealed record RunResult(string Mode, int ExitCode, long Read, long Stored, long Flagged, long AlertUpdates, double CliSeconds,
    double WallSeconds, double P50Ms, double P99Ms, MemoryReport Memory, string LastLine, double CpuSeconds = 0, double AlertP50Ms = 0, double AlertP99Ms = 0, GcReport? Gc = null)
{
    /// <summary>The CLI's <c>stage time:</c> line (each stage's busy, idle and back-pressured share); null when absent.</summary>
    public string? StageTime { get; init; }

    public double PostsPerSecond => CliSeconds > 0 ? Read / CliSeconds : 0;
    /// <summary>Posts per second of process CPU time (all threads): comparable across machine load, unlike wall-clock rates.</summary>
    public double PostsPerCpuSecond => CpuSeconds > 0 ? Read / CpuSeconds : 0;

    public string Describe() => Program.Inv(
        $"--store-posts {Mode}: exit {ExitCode}, read {Read:N0}, stored {Stored:N0}, flagged {Flagged:N0}, alert updates {AlertUpdates}, {CliSeconds:F1} s (CLI) / {WallSeconds:F1} s (wall incl. model load) → {PostsPerSecond:N0} posts/s; CPU {CpuSeconds:F1} s → {PostsPerCpuSecond:N0} posts per CPU-second; read→stored p50 {P50Ms:F0} ms, p99 {P99Ms:F0} ms; read→alert stored p50 {AlertP50Ms:F0} ms, p99 {AlertP99Ms:F0} ms; {Memory.Describe()}{(Gc is null ? "" : "; " + Gc.Describe(Read, WallSeconds))}{(StageTime is null ? "" : "; " + StageTime)}");
}

/// <summary>Runs <c>earlywarning run --source replay:FILE --until-end --no-dashboard</c> in process and samples memory.</summary>
internal static partial class PipelineRun
{
    [GeneratedRegex(@"read (\d+), stored (\d+) posts, (\d+) dead letters, (\d+) flagged, (\d+) alert updates in ([\d.]+) s \(store latency p50 ([\d.]+) ms, p99 ([\d.]+) ms; alert latency p50 ([\d.]+) ms, p99 ([\d.]+) ms\)")]
    private static partial Regex Summary();

    public static async Task<RunResult> RunAsync(string file, string mode, string workDir)
    {
        var dir = Path.Combine(workDir, "run-" + mode + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "earlywarning.db");
        // The CLI writes progress from another task: synchronise, but read the text from the inner writer
        // (a synchronised wrapper's ToString is not the text).
        var captured = new StringWriter(CultureInfo.InvariantCulture);
        var output = TextWriter.Synchronized(captured);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        using var sampler = new MemorySampler(TimeSpan.FromMilliseconds(250));
        using var self = Process.GetCurrentProcess();
        var cpu0 = self.TotalProcessorTime;
        using var reasons = new GcReasons();
        var gc0 = GcReport.Now();
        var sw = Stopwatch.StartNew();
        var exit = await Cli.RunAsync(
            ["run", "--source", "replay:" + file, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--store-posts", mode, "--data-dir", dir],
            output, output).ConfigureAwait(false);
        var wall = sw.Elapsed.TotalSeconds;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpu0).TotalSeconds;
        reasons.Stop();
        var gc = GcReport.Now().Since(gc0) with { Reasons = reasons.Describe() };
        var memory = await sampler.StopAsync().ConfigureAwait(false);
        string text;
        lock (output) text = captured.ToString();
        var m = Summary().Match(text);
        var last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        if (!m.Success)
        {
            // Show why: the CLI's last lines (errors, never post texts: the CLI does not print them).
            foreach (var l in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(5)) Console.Error.WriteLine("  cli: " + l);
            return new RunResult(mode, exit == 0 ? 1 : exit, 0, 0, 0, 0, 0, wall, 0, 0, memory, last);
        }
        double D(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        long L(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        var stageTime = text.Split('\n').FirstOrDefault(l => l.StartsWith("stage time: ", StringComparison.Ordinal))?.TrimEnd();
        return new RunResult(mode, exit, L(1), L(2), L(4), L(5), D(6), wall, D(7), D(8), memory.WithRate(L(1) / Math.Max(D(6), 1e-9)), last, cpu, D(9), D(10), gc)
        {
            StageTime = stageTime,
        };
    }
}

/// <summary>The garbage collector's share of a run: collections per generation, time the program was paused and bytes allocated.</summary>
internal sealed record GcReport(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long AllocatedBytes)
{
    /// <summary>Why the collections ran, by generation (<see cref="GcReasons"/>); null when not listened for.</summary>
    public string? Reasons { get; init; }

    public static GcReport Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(),
        GC.GetTotalAllocatedBytes(precise: false));

    public GcReport Since(GcReport before) => new(Gen0 - before.Gen0, Gen1 - before.Gen1, Gen2 - before.Gen2, Paused - before.Paused,
        AllocatedBytes - before.AllocatedBytes);

    /// <summary>Collection counts include the younger generations' (a gen-2 collection is also counted as gen 0 and 1).</summary>
    public string Describe(long posts, double wallSeconds) => Program.Inv(
        $"GC: {Gen0} gen-0, {Gen1} gen-1, {Gen2} gen-2 collections, paused {Paused.TotalSeconds:F1} s ({Paused.TotalSeconds / Math.Max(wallSeconds, 1e-9):P1} of wall), allocated {AllocatedBytes / Math.Max(posts, 1):N0} B/post{(Reasons is null ? "" : " (" + Reasons + ")")}");
}

/// <summary>Memory over a run: peak working set and the slope of working set and managed heap against time.</summary>
internal sealed record MemoryReport(double PeakWorkingSetMb, double WorkingSetSlopeMbPerSec, double HeapSlopeMbPerSec, double FirstHalfMeanMb,
    double SecondHalfMeanMb, int Samples, double PostsPerSecond = 0)
{
    public double WorkingSetSlopeMbPer100k => PostsPerSecond > 0 ? WorkingSetSlopeMbPerSec * 100_000 / PostsPerSecond : 0;
    public double HeapSlopeMbPer100k => PostsPerSecond > 0 ? HeapSlopeMbPerSec * 100_000 / PostsPerSecond : 0;
    public MemoryReport WithRate(double postsPerSecond) => this with { PostsPerSecond = postsPerSecond };

    public string Describe() => Program.Inv(
        $"peak working set {PeakWorkingSetMb:F0} MB, working set mean {FirstHalfMeanMb:F0} MB (1st half) vs {SecondHalfMeanMb:F0} MB (2nd half), slope over the 2nd half {WorkingSetSlopeMbPerSec:+0.00;-0.00} MB/s, managed heap slope {HeapSlopeMbPerSec:+0.00;-0.00} MB/s ({Samples} samples)");
}

/// <summary>Samples the process working set and managed heap size on a timer until stopped.</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly List<(double T, double Ws, double Heap)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public MemorySampler(TimeSpan every) => _loop = LoopAsync(every);

    private async Task LoopAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        using var p = Process.GetCurrentProcess();
        try
        {
            do
            {
                p.Refresh();
                lock (_samples) _samples.Add((_clock.Elapsed.TotalSeconds, p.WorkingSet64 / 1e6, GC.GetTotalMemory(false) / 1e6));
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) { }
    }

    public async Task<MemoryReport> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        List<(double T, double Ws, double Heap)> s;
        lock (_samples) s = [.. _samples];
        if (s.Count < 4) return new MemoryReport(s.Count == 0 ? 0 : s.Max(x => x.Ws), 0, 0, 0, 0, s.Count);
        var half = s.Count / 2;
        var second = s.Skip(half).ToList();
        return new MemoryReport(s.Max(x => x.Ws), Slope(second, x => x.Ws), Slope(second, x => x.Heap),
            s.Take(half).Average(x => x.Ws), second.Average(x => x.Ws), s.Count);
    }

    /// <summary>Least-squares slope of y against time.</summary>
    private static double Slope(List<(double T, double Ws, double Heap)> s, Func<(double T, double Ws, double Heap), double> y)
    {
        double mt = s.Average(x => x.T), my = s.Average(y), num = 0, den = 0;
        foreach (var x in s)
        {
            num += (x.T - mt) * (y(x) - my);
            den += (x.T - mt) * (x.T - mt);
        }
        return den == 0 ? 0 : num / den;
    }

    public void Dispose() => _stop.Dispose();
}
