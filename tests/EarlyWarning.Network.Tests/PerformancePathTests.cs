using System.Numerics;
using EarlyWarning.Network.Matching;
using EarlyWarning.Network.Metrics;
using QuikGraph;
using QuikGraph.Algorithms.Ranking;

namespace EarlyWarning.Network.Tests;

/// <summary>The fast paths (sort-built CSR, pull PageRank, array label propagation, PDQ multi-index) against slow references.</summary>
public sealed class PerformancePathTests
{
    private static (string[] Names, List<(int, int, double)> Arcs) RandomGraph(int n, int m, int seed, bool everyVertexHasOutArc)
    {
        var rng = new Random(seed);
        var names = Enumerable.Range(0, n).Select(i => "v" + i).ToArray();
        var arcs = new List<(int, int, double)>();
        if (everyVertexHasOutArc)
            for (var v = 0; v < n; v++) arcs.Add((v, (v + 1 + rng.Next(n - 1)) % n, 1));
        while (arcs.Count < m)
        {
            // Skewed targets, repeated arcs, self-loops and vertices without out-arcs all occur.
            var s = everyVertexHasOutArc ? rng.Next(n) : rng.Next(n - 5); // the last five vertices are dangling
            var t = (int)(n * Math.Pow(rng.NextDouble(), 2));
            arcs.Add((s, t, everyVertexHasOutArc ? 1 : 0.5 + rng.Next(4)));
        }
        return (names, arcs);
    }

    /// <summary>Textbook weighted PageRank on merged arcs: push form, dangling mass spread uniformly.</summary>
    private static double[] ReferencePageRank(int n, List<(int S, int T, double W)> arcs, double d, int iterations)
    {
        var outSum = new double[n];
        foreach (var (s, _, w) in arcs) outSum[s] += w;
        var rank = Enumerable.Repeat(1.0 / n, n).ToArray();
        for (var it = 0; it < iterations; it++)
        {
            var dangling = Enumerable.Range(0, n).Where(v => outSum[v] <= 0).Sum(v => rank[v]);
            var next = Enumerable.Repeat(((1 - d) + (d * dangling)) / n, n).ToArray();
            foreach (var (s, t, w) in arcs) next[t] += d * rank[s] * w / outSum[s];
            rank = next;
        }
        return rank;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Csr_build_merges_parallel_arcs_sorts_rows_and_symmetrises_like_a_dictionary_build(int seed)
    {
        var (names, arcs) = RandomGraph(300, 3000, seed, everyVertexHasOutArc: false);
        var g = CsrGraph.Build(names, arcs);
        var directed = new SortedDictionary<(int, int), double>();
        var undirected = new SortedDictionary<(int, int), double>();
        foreach (var (s, t, w) in arcs)
        {
            directed[(s, t)] = directed.GetValueOrDefault((s, t)) + w;
            if (s == t) continue;
            undirected[(s, t)] = undirected.GetValueOrDefault((s, t)) + w;
            undirected[(t, s)] = undirected.GetValueOrDefault((t, s)) + w;
        }
        var gotDirected = new List<((int, int), double)>();
        var gotUndirected = new List<((int, int), double)>();
        for (var v = 0; v < names.Length; v++)
        {
            for (var k = 0; k < g.OutTargets(v).Length; k++) gotDirected.Add(((v, g.OutTargets(v)[k]), g.OutWeights(v)[k]));
            for (var k = 0; k < g.Neighbours(v).Length; k++) gotUndirected.Add(((v, g.Neighbours(v)[k]), g.NeighbourWeights(v)[k]));
        }
        Assert.Equal(directed.Select(kv => (kv.Key, kv.Value)), gotDirected); // sorted by (source, target), merged
        Assert.Equal(undirected.Select(kv => (kv.Key, kv.Value)), gotUndirected);
        Assert.Equal(directed.Count, g.ArcCount);
        Assert.Equal(undirected.Count / 2, g.UndirectedEdgeCount);
        // The in-adjacency is the transpose, rows sorted by source.
        var transposed = new List<(int, int)>();
        for (var v = 0; v < names.Length; v++)
            foreach (var u in g.InSources(v)) transposed.Add((u, v));
        Assert.Equal(directed.Keys.OrderBy(x => x.Item2).ThenBy(x => x.Item1), transposed);
    }

    [Fact]
    public void Csr_build_rejects_out_of_range_vertices_and_bad_weights()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CsrGraph.Build(["a"], [(0, 1, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsrGraph.Build(["a", "b"], [(0, 1, double.NaN)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsrGraph.Build(["a", "b"], [(0, 1, -1)]));
        var empty = CsrGraph.Build([], []);
        Assert.Empty(empty.PageRank());
        Assert.Empty(empty.Components(out var c));
        Assert.Equal(0, c);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Pull_PageRank_equals_the_textbook_push_PageRank_with_weights_dangling_vertices_and_parallel_arcs(int seed)
    {
        var (names, arcs) = RandomGraph(400, 2500, seed, everyVertexHasOutArc: false);
        var g = CsrGraph.Build(names, arcs);
        var reference = ReferencePageRank(names.Length, arcs, 0.85, 200);
        var fast = g.PageRank(0.85, tolerance: 1e-13, maxIterations: 200);
        Assert.True(Enumerable.Range(0, names.Length).Any(v => g.OutTargets(v).IsEmpty), "the graph has dangling vertices");
        Assert.Equal(1.0, fast.Sum(), 9);
        for (var v = 0; v < names.Length; v++) Assert.Equal(reference[v], fast[v], 10);

        // The span overload allocates nothing and gives the same ranks, for odd and even iteration counts.
        var rank = new double[names.Length];
        var scratch = new double[names.Length];
        foreach (var its in new[] { 7, 8 })
        {
            g.PageRank(rank, scratch, 0.85, tolerance: 0, maxIterations: its);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var ran = g.PageRank(rank, scratch, 0.85, tolerance: 0, maxIterations: its);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(its, ran);
            var expected = ReferencePageRank(names.Length, arcs, 0.85, its);
            for (var v = 0; v < names.Length; v++) Assert.Equal(expected[v], rank[v], 12);
        }
    }

    [Fact]
    public void Csr_PageRank_equals_QuikGraphs_PageRankAlgorithm_on_the_same_graph()
    {
        // QuikGraph's PageRank is unweighted and has no dangling-mass term, so compare where they coincide: unit
        // weights, every vertex with an out-arc, no parallel arcs; QuikGraph's ranks normalised to sum 1.
        var (names, raw) = RandomGraph(500, 3000, 21, everyVertexHasOutArc: true);
        var arcs = raw.Where(a => a.Item1 != a.Item2).Distinct().ToList();
        var qg = new BidirectionalGraph<int, SEdge<int>>(allowParallelEdges: false);
        for (var v = 0; v < names.Length; v++) qg.AddVertex(v);
        foreach (var (s, t, _) in arcs) qg.AddEdge(new SEdge<int>(s, t));
        var baseline = new PageRankAlgorithm<int, SEdge<int>>(qg) { Damping = 0.85, Tolerance = 1e-12, MaxIterations = 1000 };
        baseline.Compute();
        var sum = baseline.Ranks.Values.Sum();
        var ours = CsrGraph.Build(names, arcs).PageRank(0.85, tolerance: 1e-13, maxIterations: 1000);
        for (var v = 0; v < names.Length; v++) Assert.Equal(baseline.Ranks[v] / sum, ours[v], 8);
    }

    [Fact]
    public void Label_propagation_separates_two_dense_groups_joined_by_one_edge_and_components_count_islands()
    {
        var names = Enumerable.Range(0, 23).Select(i => "v" + i).ToArray();
        var arcs = new List<(int, int, double)>();
        for (var i = 0; i < 10; i++)
            for (var j = 0; j < 10; j++)
            {
                if (i == j) continue;
                arcs.Add((i, j, 1));
                arcs.Add((10 + i, 10 + j, 1));
            }
        arcs.Add((0, 10, 1)); // one bridge
        arcs.Add((20, 21, 1)); // an island pair; vertex 22 alone
        var g = CsrGraph.Build(names, arcs);
        var comm = g.LabelPropagation(out var communities);
        Assert.Equal(4, communities);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(comm[0], comm[i]));
        Assert.All(Enumerable.Range(10, 10), i => Assert.Equal(comm[10], comm[i]));
        Assert.NotEqual(comm[0], comm[10]);
        Assert.Equal(comm[20], comm[21]);
        var comp = g.Components(out var components);
        Assert.Equal(3, components);
        Assert.Equal(0, comp[5]); // largest first
        Assert.Equal(1, comp[20]);
        Assert.Equal(2, comp[22]);
    }

    [Fact]
    public void Refresh_snapshot_has_the_same_PageRank_and_components_without_communities_or_betweenness()
    {
        var e = new NetworkEngine(new NetworkOptions());
        var t = Posts.T0;
        var rng = new Random(4);
        for (var i = 0; i < 300; i++)
            e.Observe(Posts.Make("p" + i, "u" + rng.Next(60), t = t.AddSeconds(2), replyTo: i > 0 ? "p" + rng.Next(i) : null));
        var full = e.Snapshot(e.Now!.Value);
        var refresh = e.Snapshot(e.Now!.Value, NetworkMetrics.Refresh);
        Assert.Equal(full.Accounts.Select(a => (a.Account, a.PageRank, a.Component)), refresh.Accounts.Select(a => (a.Account, a.PageRank, a.Component)));
        Assert.Equal(refresh.ComponentCount, refresh.CommunityCount);
        Assert.All(refresh.Accounts, a => Assert.Equal(a.Component, a.Community));
        Assert.All(refresh.Accounts, a => Assert.Equal(0, a.Betweenness));
        Assert.Contains(full.Accounts, a => a.Betweenness > 0);
    }

    private static ulong[] RandomWords(Random rng) => [(ulong)rng.NextInt64(), (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), (ulong)rng.NextInt64(), (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 62)];

    private static ulong[] FlipBits(ulong[] w, int bits, Random rng)
    {
        var r = (ulong[])w.Clone();
        foreach (var b in Enumerable.Range(0, 256).OrderBy(_ => rng.Next()).Take(bits)) r[b / 64] ^= 1UL << (b % 64);
        return r;
    }

    private static string Hex(ulong[] w) => string.Concat(w.Select(x => x.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData(16, true)] // 16 chunks of 16 bits: radius 2 (the widest enabled list is at 40)
    [InlineData(16, false)] // radius 1 (widest enabled list at 31)
    [InlineData(18, true)] // 14 chunks of 18-19 bits: radius 2
    [InlineData(0, false)] // default layout
    public void Pdq_multi_index_finds_exactly_what_brute_force_finds(int chunkBits, bool wideListEnabled)
    {
        var rng = new Random(100 + chunkBits);
        var m = new HashListMatcher { PdqChunkBits = chunkBits };
        m.Configure(new HashListConfig("d31", HashType.Pdq, MaxDistance: 31));
        m.Configure(new HashListConfig("d40", HashType.Pdq, MaxDistance: 40, Enabled: wideListEnabled));
        m.Configure(new HashListConfig("d10", HashType.Pdq, MaxDistance: 10));
        string[] lists = ["d31", "d40", "d10"];
        int[] limits = [31, 40, 10];
        var entries = new List<ulong[]>();
        for (var i = 0; i < 40_000; i++)
        {
            // Every 50th entry starts a family of near-duplicates, so queries can match several entries.
            var w = i % 50 is > 0 and < 5 ? FlipBits(entries[i - (i % 50)], rng.Next(1, 30), rng) : RandomWords(rng);
            entries.Add(w);
            Assert.Null(m.Add(Hex(w), lists[i % 3], "e" + i));
        }
        var queries = new List<(ulong[] Q, int Planted, int Dist)>();
        for (var k = 0; k < 160; k++)
        {
            var idx = rng.Next(entries.Count);
            var d = k % 45;
            queries.Add((FlipBits(entries[idx], d, rng), idx, d));
        }
        for (var k = 0; k < 40; k++) queries.Add((RandomWords(rng), -1, -1));
        var results = m.MatchPdqMany([.. queries.Select(x => Hex(x.Q))]);
        var planted = 0;
        for (var k = 0; k < queries.Count; k++)
        {
            var (q, idx, d) = queries[k];
            Assert.True(results[k].Valid);
            var expected = new List<string>();
            for (var i = 0; i < entries.Count; i++)
            {
                var dist = 0;
                for (var j = 0; j < 4; j++) dist += BitOperations.PopCount(q[j] ^ entries[i][j]);
                if (dist <= limits[i % 3] && (wideListEnabled || i % 3 != 1)) expected.Add($"{lists[i % 3]}:e{i}:{dist}");
            }
            Assert.Equal(expected, results[k].Matches.Select(x => $"{x.List}:{x.Label}:{x.Distance}"));
            if (idx >= 0 && d <= limits[idx % 3] && (wideListEnabled || idx % 3 != 1))
            {
                planted++;
                Assert.Contains(results[k].Matches, x => x.EntryHash == Hex(entries[idx]) && x.Distance == d);
            }
        }
        Assert.True(planted >= (wideListEnabled ? 80 : 45), $"only {planted} planted near-duplicates were within their list's distance");
        Assert.False(m.MatchPdqMany(["xyz"])[0].Valid);
    }
}
