using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Network.Graph;
using EarlyWarning.Network.Metrics;
using QuikGraph.Algorithms.Ranking;

namespace EarlyWarning.Benchmarks.Network;

/// <summary>
/// The network stage on a simulator stream: <c>NetworkEngine.Observe</c> per post (graph, co-sharing,
/// coordination), and on the resulting window graph our CSR PageRank and the full <c>NetworkEngine.Snapshot(asOf)</c>
/// against QuikGraph's <see cref="PageRankAlgorithm{TVertex,TEdge}"/> on the very same QuikGraph graph.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcessConfig))]
public class NetworkBenchmarks
{
    public const int Posts = 20_000;
    private List<PostEnvelope> _envelopes = [];
    private NetworkEngine _filled = null!;
    private CsrGraph _csr = null!;
    private DateTimeOffset _asOf;

    [GlobalSetup]
    public void Setup()
    {
        using var classifier = PostClassifier.Load(RepoPaths.DefaultModel, RepoPaths.Lexicons);
        _envelopes = SimulatedStream.Envelopes(Posts, classifier);
        _filled = new NetworkEngine(new NetworkOptions());
        foreach (var e in _envelopes) _filled.Observe(e);
        _asOf = _filled.Now!.Value;
        _csr = BuildCsr(_filled.Graph);
        Console.WriteLine($"// window graph: {_filled.Graph.VertexCount} vertices, {_filled.Graph.EdgeCount} edges ({_csr.ArcCount} arcs)");
    }

    /// <summary>The same graph as a CSR (co-share edges both ways, as the snapshot builds it).</summary>
    public static CsrGraph BuildCsr(AccountGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var names = graph.Graph.Vertices.Order(StringComparer.Ordinal).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++) index[names[i]] = i;
        var arcs = new List<(int, int, double)>();
        foreach (var e in graph.Graph.Edges)
        {
            arcs.Add((index[e.Source], index[e.Target], e.Weight));
            if (e.Kind == EdgeKind.CoShare) arcs.Add((index[e.Target], index[e.Source], e.Weight));
        }
        return CsrGraph.Build(names, arcs);
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "NetworkEngine.Observe (per post)")]
    public int Observe()
    {
        var engine = new NetworkEngine(new NetworkOptions());
        foreach (var e in _envelopes) engine.Observe(e);
        var signals = new List<Signal>();
        return engine.DrainSignals(signals);
    }

    [Benchmark(Baseline = true, Description = "QuikGraph PageRankAlgorithm (baseline)")]
    public double QuikGraphPageRank()
    {
        var pr = new PageRankAlgorithm<string, AccountEdge>(_filled.Graph.Graph) { Damping = 0.85, Tolerance = 1e-6, MaxIterations = 100 };
        pr.Compute();
        return pr.GetRanksSum();
    }

    [Benchmark(Description = "CsrGraph.PageRank (same graph)")]
    public double CsrPageRank() => _csr.PageRank().Sum();

    [Benchmark(Description = "NetworkEngine.Snapshot (CSR build+PageRank+components+communities+betweenness)")]
    public int Snapshot() => _filled.Snapshot(_asOf).VertexCount;
}
