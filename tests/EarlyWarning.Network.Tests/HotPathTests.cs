namespace EarlyWarning.Network.Tests;

/// <summary>The per-post hot paths: pair expiry by time, eviction queues under churn, and stable results on replay.</summary>
public sealed class HotPathTests
{
    [Fact]
    public void Pairs_idle_past_the_campaign_horizon_are_pruned_and_active_ones_kept()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(30), DetectionInterval = TimeSpan.FromMinutes(1) };
        var e = new NetworkEngine(o);
        var t = Posts.T0;
        // Ten accounts share two links close in time: 45 pairs.
        for (var i = 0; i < 10; i++) e.Observe(Posts.Make("a" + i, "acc" + i, t.AddSeconds(i), urls: ["https://x.example/1", "https://x.example/2"]));
        Assert.Equal(45, e.TrackedPairs);
        // Later, two other accounts co-share; then time moves past the horizon of the first group only.
        var later = t.AddMinutes(20);
        e.Observe(Posts.Make("b1", "late1", later, urls: ["https://y.example/1"]));
        e.Observe(Posts.Make("b2", "late2", later.AddSeconds(5), urls: ["https://y.example/1"]));
        Assert.Equal(46, e.TrackedPairs);
        for (var m = 1; m <= 15; m++) e.Observe(Posts.Make("c" + m, "quiet", later.AddMinutes(m)));
        Assert.Equal(1, e.TrackedPairs);
        for (var m = 16; m <= 40; m++) e.Observe(Posts.Make("c" + m, "quiet", later.AddMinutes(m)));
        Assert.Equal(0, e.TrackedPairs);
    }

    [Fact]
    public void Eviction_queues_stay_bounded_when_a_few_accounts_are_touched_over_and_over()
    {
        // Many edges, few vertices touched very often: the vertex queue compacts often, the edge queue on its own terms.
        var o = new NetworkOptions { Window = TimeSpan.FromHours(6), MaxVertices = 100_000, MaxEdges = 100_000 };
        var e = new NetworkEngine(o);
        var t = Posts.T0;
        var maxQueue = 0;
        for (var i = 0; i < 40_000; i++)
        {
            t = t.AddMilliseconds(10);
            var author = "u" + (i % 200);
            e.Observe(Posts.Make("p" + i, author, t, mentions: ["m" + (i % 5000), "u" + ((i * 7) % 200)]));
            maxQueue = Math.Max(maxQueue, e.Graph.EvictionQueueLength);
        }
        var bound = (2 * e.Graph.EdgeCount) + (2 * e.Graph.VertexCount) + 2050;
        Assert.True(e.Graph.EdgeCount > 5000, $"edges {e.Graph.EdgeCount}");
        Assert.True(maxQueue <= bound, $"queues peaked at {maxQueue}, bound {bound}");
        Assert.Equal(e.Graph.Graph.EdgeCount, e.Graph.Graph.Edges.Count());
    }

    [Fact]
    public void Two_engines_fed_the_same_campaign_stream_raise_identical_signals()
    {
        static string Run()
        {
            var e = new NetworkEngine(new NetworkOptions());
            foreach (var p in CampaignGenerator.Generate(seed: 7).Posts) e.Observe(p);
            e.Flush();
            var s = new List<EarlyWarning.Core.Alerts.Signal>();
            e.DrainSignals(s);
            return string.Join('\n', s.Select(x => $"{x.Kind}|{x.Score:R}|{x.Baseline:R}|{x.Observed}|{string.Join(',', x.Evidence.Accounts)}|{string.Join(',', x.Evidence.PostIds)}"))
                + "\n" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(e.SaveState()));
        }
        var a = Run();
        Assert.Contains("coordinated_campaign", a, StringComparison.Ordinal);
        Assert.Equal(a, Run());
    }
}
