using EarlyWarning.Core.Posts;
using EarlyWarning.Network.Metrics;
using QuikGraph.Algorithms.Ranking;

namespace EarlyWarning.Network.Tests;

public sealed class MetricsTests
{
    /// <summary>Two reply cliques joined through one broker; the hub of the first clique is replied to by everyone in it.</summary>
    private static NetworkEngine TwoCommunities()
    {
        var e = new NetworkEngine(new NetworkOptions { BetweennessPivots = 1000 });
        var t = Posts.T0;
        var n = 0;
        void Post(string author, string? replyTo = null, string label = Labels.None, string[]? tags = null) =>
            e.Observe(Posts.Make("p" + n++, author, t = t.AddSeconds(1), replyTo: replyTo, label: label, hashtags: tags));
        string[] left = ["l0", "l1", "l2", "l3", "l4"];
        string[] right = ["r0", "r1", "r2", "r3", "r4"];
        foreach (var a in left) Post(a, label: Labels.Hate, tags: ["left"]);
        foreach (var a in right) Post(a, tags: ["right"]);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            for (var j = 0; j < 5; j++)
            {
                if (i == j) continue;
                Post(left[i], replyTo: "p" + j, label: Labels.Hate); // replies to l_j's first post
                Post(right[i], replyTo: "p" + (5 + j));
            }
        }
        Post("broker", replyTo: "p0");
        Post("broker", replyTo: "p5");
        return e;
    }

    [Fact]
    public void Snapshot_finds_communities_components_brokers_and_hateful_shares()
    {
        var e = TwoCommunities();
        var s = e.Snapshot(e.Now!.Value);
        Assert.Equal(11, s.VertexCount);
        Assert.Equal(1, s.ComponentCount);
        Assert.Equal(2, s.CommunityCount);
        var left = s.Clusters.Single(c => c.TopHashtags.Contains("left"));
        var right = s.Clusters.Single(c => c.TopHashtags.Contains("right"));
        // The broker (never hateful) joins one side; the shares are the members' flagged posts over their posts.
        Assert.InRange(left.HatefulShare, 0.95, 1.0);
        Assert.InRange(right.HatefulShare, 0.0, 0.0);
        var members0 = e.ClusterMembers(left.Id).Select(a => s.Accounts.Single(x => x.Account == a)).ToList();
        Assert.Equal((double)members0.Sum(a => a.FlaggedPosts) / members0.Sum(a => a.Posts), left.HatefulShare, 12);
        Assert.Equal("broker", s.Brokers[0].Account);
        Assert.Equal(1, s.Brokers[0].BridgedCommunities);
        var members = e.ClusterMembers(left.Id);
        Assert.Equal(left.Size, members.Count);
        Assert.Contains("l0", members);
        var byAccount = s.Accounts.ToDictionary(a => a.Account);
        Assert.Equal(1.0, byAccount["l3"].HatefulShare);
        Assert.Equal(0.0, byAccount["broker"].HatefulShare);
        Assert.Equal(1.0, s.Accounts.Sum(a => a.PageRank), 6);
    }

    [Fact]
    public void A_captured_window_computes_the_snapshot_of_its_moment_after_the_engine_went_on()
    {
        var stream = CampaignGenerator.Generate(7);
        var half = stream.Posts.Count / 2;
        var e = new NetworkEngine(new NetworkOptions { BetweennessPivots = 50 });
        var reference = new NetworkEngine(new NetworkOptions { BetweennessPivots = 50 });
        foreach (var p in stream.Posts.Take(half)) { e.Observe(p); reference.Observe(p); }
        var asOf = e.Now!.Value;
        var input = e.CaptureSnapshot(asOf);
        Assert.True(input.AccountCount > 100);
        // The engine goes on (new posts, new edges, expiry) before the copy is computed.
        foreach (var p in stream.Posts.Skip(half)) e.Observe(p);
        var computed = input.Compute(NetworkMetrics.Communities | NetworkMetrics.Betweenness);
        var expected = reference.Snapshot(asOf, NetworkMetrics.Communities | NetworkMetrics.Betweenness);
        Assert.Equal(expected.VertexCount, computed.VertexCount);
        Assert.Equal(expected.EdgeCount, computed.EdgeCount);
        Assert.Equal(expected.CommunityCount, computed.CommunityCount);
        Assert.Equal(expected.Accounts, computed.Accounts);
        Assert.Equal(expected.TopAmplifiers, computed.TopAmplifiers);
        Assert.Equal(expected.Brokers, computed.Brokers);
        Assert.Equal(expected.Clusters.Select(c => (c.Id, c.Size, c.Posts, c.FlaggedPosts, string.Join(',', c.TopAccounts), string.Join(',', c.TopHashtags))),
            computed.Clusters.Select(c => (c.Id, c.Size, c.Posts, c.FlaggedPosts, string.Join(',', c.TopAccounts), string.Join(',', c.TopHashtags))));
        // Not the engine's present: its window has moved on.
        Assert.NotEqual(e.Snapshot(e.Now!.Value).Accounts, computed.Accounts);
    }

    [Fact]
    public void PageRank_ranks_the_most_replied_to_account_first_and_agrees_with_QuikGraph()
    {
        var e = new NetworkEngine(new NetworkOptions());
        var t = Posts.T0;
        e.Observe(Posts.Make("hub", "star", t));
        e.Observe(Posts.Make("side", "minor", t));
        var rng = new Random(1);
        for (var i = 0; i < 40; i++)
        {
            var parent = i % 4 == 0 ? "side" : "hub";
            e.Observe(Posts.Make("r" + i, "f" + rng.Next(25), t = t.AddSeconds(3), replyTo: parent));
        }
        var s = e.Snapshot(e.Now!.Value);
        Assert.Equal("star", s.TopAmplifiers[0].Account);
        Assert.Equal("minor", s.TopAmplifiers[1].Account);

        // Baseline: QuikGraph's own (unweighted) PageRank on the same graph puts the same two accounts on top.
        var pr = new PageRankAlgorithm<string, Graph.AccountEdge>(e.Graph.Graph);
        pr.Compute();
        var top = pr.Ranks.OrderByDescending(kv => kv.Value).Take(2).Select(kv => kv.Key).ToList();
        Assert.Equal(["star", "minor"], top);
    }

    [Fact]
    public void Ego_network_follows_edges_both_ways_up_to_the_depth()
    {
        var e = TwoCommunities();
        var ego1 = e.EgoNetwork("broker", 1);
        Assert.Equal(["broker", "l0", "r0"], ego1.Distance.Keys.Order().ToList());
        Assert.Equal(2, ego1.Edges.Count);
        var ego2 = e.EgoNetwork("broker", 2);
        Assert.Equal(11, ego2.Distance.Count);
        Assert.Equal(2, ego2.Distance["l3"]);
        Assert.All(ego2.Edges, x => Assert.True(ego2.Distance.ContainsKey(x.Source) && ego2.Distance.ContainsKey(x.Target)));
        Assert.Empty(e.EgoNetwork("nobody", 2).Distance);
        var capped = e.EgoNetwork("broker", 3, maxAccounts: 4);
        Assert.True(capped.Truncated);
        Assert.Equal(4, capped.Distance.Count);
    }

    [Fact]
    public void Csr_betweenness_is_exact_on_a_path_when_every_vertex_is_a_pivot()
    {
        // Path a-b-c-d: betweenness of b and c is 2 (pairs a-c, a-d through b; b-d, a-d through c).
        var g = CsrGraph.Build(["a", "b", "c", "d"], [(0, 1, 1), (1, 2, 1), (2, 3, 1)]);
        var bc = g.Betweenness(pivots: 4, seed: 1);
        Assert.Equal([0, 2, 2, 0], bc.Select(x => Math.Round(x, 9)).ToArray());
        var comp = CsrGraph.Build(["a", "b", "c"], [(0, 1, 1)]).Components(out var count);
        Assert.Equal(2, count);
        Assert.Equal(comp[0], comp[1]);
        Assert.NotEqual(comp[0], comp[2]);
    }

    /// <summary>PageRank and degree of every window account, computed independently from the QuikGraph graph of record.</summary>
    private static Dictionary<string, (double PageRank, int Degree)> Reference(NetworkEngine engine, DateTimeOffset asOf)
    {
        var window = engine.Window(asOf);
        var names = window.Nodes.Select(n => n.Id).Order(StringComparer.Ordinal).ToArray();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        var arcs = new List<(int, int, double)>();
        foreach (var e in window.Edges)
        {
            arcs.Add((index[e.Source], index[e.Target], e.Weight));
            if (e.Kind == "coshare") arcs.Add((index[e.Target], index[e.Source], e.Weight));
        }
        var csr = CsrGraph.Build(names, arcs);
        var pr = csr.PageRank();
        return names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => (pr[x.i], csr.Neighbours(x.i).Length), StringComparer.Ordinal);
    }

    [Fact]
    public void Snapshot_reads_the_same_window_graph_as_the_export_also_after_eviction_and_restore()
    {
        // A stream longer than the window (accounts and edges are evicted) with replies, mentions and co-shares.
        var stream = CampaignGenerator.Generate(17);
        var engine = new NetworkEngine(new NetworkOptions { Window = TimeSpan.FromMinutes(20), MaxEdges = 3000 });
        foreach (var p in stream.Posts) engine.Observe(p);
        var restored = new NetworkEngine(new NetworkOptions { Window = TimeSpan.FromMinutes(20), MaxEdges = 3000 });
        restored.LoadState(engine.SaveState());
        foreach (var e in new[] { engine, restored })
        {
            var asOf = e.Now!.Value;
            var snap = e.Snapshot(asOf);
            var reference = Reference(e, asOf);
            Assert.True(engine.Graph.EdgeCount > 100, $"edges {engine.Graph.EdgeCount}");
            Assert.Equal(reference.Count, snap.Accounts.Count);
            Assert.Equal(e.Window(asOf).Edges.Count, snap.EdgeCount);
            foreach (var a in snap.Accounts)
            {
                Assert.Equal(reference[a.Account].Degree, a.Degree);
                Assert.Equal(reference[a.Account].PageRank, a.PageRank, 12);
            }
            // An earlier as-of time sees a smaller window, read the same way.
            var earlier = asOf.AddMinutes(-5);
            var earlierRef = Reference(e, earlier);
            Assert.Equal(earlierRef.Count, e.Snapshot(earlier).Accounts.Count);
        }
    }
}
