using System.Diagnostics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Posts;
using EarlyWarning.Network;
using EarlyWarning.Network.Metrics;

namespace EarlyWarning.Benchmarks.Network;

/// <summary>
/// Issue 5's refresh target: PageRank + components + coordination over a window of about a million edges, on one
/// core, against igraph (Debian's <c>python3-igraph</c>) on the very same edge list in the same run. Both sides are
/// pinned to CPU 1; igraph runs in a resident Python process that loaded the graph once, so each of its invocations
/// is PageRank (PRPACK, weighted, d = 0.85) + weak components and one line of pipe traffic.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MonitoringInProcessConfig))]
public class RefreshBenchmarks
{
    public const int Accounts = 200_000;
    public const int Posts = 300_000;
    public const int MentionsPerPost = 4;
    private const int Cpu = 1;

    private NetworkEngine _engine = null!;
    private DateTimeOffset _asOf;
    private Process? _igraph;
    private string _edges = "";
    private string _summary = "";

    [GlobalSetup]
    public void Setup()
    {
        if (Environment.ProcessorCount > Cpu && OperatingSystem.IsLinux())
            Process.GetCurrentProcess().ProcessorAffinity = 1 << Cpu;
        // Uniform authors, skewed mention targets (a few accounts draw most mentions), all inside the 6-hour window.
        var rng = new Random(1);
        var t0 = new DateTimeOffset(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
        _engine = new NetworkEngine(new NetworkOptions { MaxEdges = 2_000_000, MaxVertices = 400_000, SnapshotMetrics = NetworkMetrics.Refresh });
        var stepMs = TimeSpan.FromHours(5).TotalMilliseconds / Posts;
        for (var i = 0; i < Posts; i++)
        {
            var mentions = new string[MentionsPerPost];
            for (var k = 0; k < mentions.Length; k++)
            {
                var u = rng.NextDouble();
                mentions[k] = Account((int)(Accounts * u * u));
            }
            var post = new Post
            {
                Id = "r" + i.ToString(CultureInfo.InvariantCulture),
                CreatedAt = t0.AddMilliseconds(i * stepMs),
                AuthorId = Account(rng.Next(Accounts)),
                Text = "",
                Mentions = mentions,
            };
            _engine.Observe(new PostEnvelope { Post = post, Position = new SourcePosition("bench", i) });
        }
        _asOf = _engine.Now!.Value;
        var window = _engine.Window(_asOf);
        _summary = $"refresh window: {window.Nodes.Count} accounts, {window.Edges.Count} edges (from {Posts} posts with {MentionsPerPost} mentions each)";

        // The same window as an edge list for igraph: vertex numbers in ordinal account order, weighted arcs.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in window.Nodes.Select(n => n.Id).Order(StringComparer.Ordinal)) index[n] = index.Count;
        _edges = Path.Combine(Path.GetTempPath(), $"ew-refresh-{Environment.ProcessId}.txt");
        using (var w = new StreamWriter(_edges, false, Encoding.ASCII))
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index.Count} {window.Edges.Count}"));
            foreach (var e in window.Edges)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index[e.Source]} {index[e.Target]} {e.Weight}"));
                if (e.Kind == "coshare") w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index[e.Target]} {index[e.Source]} {e.Weight}"));
            }
        }
        _igraph = StartIgraph(_edges, out var ready);
        // In-process BenchmarkDotNet does not keep setup output: the graph's size goes beside the reports instead.
        var results = Path.Combine(RepoPaths.Root, "benchmarks", "results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, "network-refresh-setup.txt"), _summary + "\n" + ready + "\n");
    }

    private static string Account(int i) => "p_" + i.ToString("x6", CultureInfo.InvariantCulture);

    private static Process StartIgraph(string edges, out string ready)
    {
        const string script = """
            import os, sys
            try:
                import igraph
            except ImportError:
                print("error: python3-igraph is missing (apt-get install -y python3-igraph)", flush=True)
                sys.exit(1)
            cpu = int(sys.argv[2])
            if cpu < os.cpu_count():
                os.sched_setaffinity(0, {cpu})
            with open(sys.argv[1]) as f:
                n, m = map(int, f.readline().split())
                src, dst, w = [], [], []
                for line in f:
                    a, b, c = line.split()
                    src.append(int(a)); dst.append(int(b)); w.append(float(c))
            g = igraph.Graph(n=n, edges=list(zip(src, dst)), directed=True)
            g.es["weight"] = w
            print(f"ready igraph {igraph.__version__} {g.vcount()} {g.ecount()}", flush=True)
            for line in sys.stdin:
                if line.strip() != "run":
                    break
                pr = g.pagerank(weights="weight", damping=0.85)
                comps = g.connected_components(mode="weak")
                print(len(comps), flush=True)
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(edges);
        psi.ArgumentList.Add(Cpu.ToString(CultureInfo.InvariantCulture));
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        ready = p.StandardOutput.ReadLine() ?? "";
        if (!ready.StartsWith("ready", StringComparison.Ordinal)) throw new InvalidOperationException("igraph side did not start: " + ready);
        return p;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_igraph is { HasExited: false } p)
        {
            p.StandardInput.WriteLine("stop");
            p.StandardInput.Flush();
            if (!p.WaitForExit(5000)) p.Kill();
        }
        _igraph?.Dispose();
        if (_edges.Length > 0) File.Delete(_edges);
    }

    [Benchmark(Baseline = true, Description = "igraph 0.10 PageRank (PRPACK, weighted) + weak components, same edges, 1 core")]
    public int Igraph()
    {
        var p = _igraph!;
        p.StandardInput.WriteLine("run");
        p.StandardInput.Flush();
        var line = p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("igraph side ended");
        return int.Parse(line, CultureInfo.InvariantCulture);
    }

    [Benchmark(Description = "NetworkEngine refresh: Snapshot(Refresh) from the QuikGraph graph (CSR build + PageRank + components) + coordination run, 1 core")]
    public int Refresh()
    {
        var s = _engine.Snapshot(_asOf, NetworkMetrics.Refresh);
        _engine.Flush();
        return s.ComponentCount;
    }

    [Benchmark(Description = "NetworkEngine.CaptureSnapshot only: the copy of the window a dashboard snapshot holds the network stage for, 1 core")]
    public int Capture() => _engine.CaptureSnapshot(_asOf).AccountCount;
}
