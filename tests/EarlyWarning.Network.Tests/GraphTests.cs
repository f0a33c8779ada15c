using EarlyWarning.Network.Graph;

namespace EarlyWarning.Network.Tests;

public sealed class GraphTests
{
    [Fact]
    public void Reply_repost_quote_and_mention_edges_point_at_the_parent_author()
    {
        var e = new NetworkEngine(new NetworkOptions());
        var t = Posts.T0;
        e.Observe(Posts.Make("a1", "alice", t, "hello there friends"));
        e.Observe(Posts.Make("b1", "bob", t.AddSeconds(5), "reply words here", replyTo: "a1"));
        e.Observe(Posts.Make("c1", "carol", t.AddSeconds(6), "rt", repostOf: "a1"));
        e.Observe(Posts.Make("d1", "dave", t.AddSeconds(7), "quoting this one", quoteOf: "b1", mentions: ["carol"]));
        e.Observe(Posts.Make("b2", "bob", t.AddSeconds(8), "again replying now", replyTo: "a1"));
        e.Observe(Posts.Make("x1", "erin", t.AddSeconds(9), "unknown parent", replyTo: "nope"));
        e.Observe(Posts.Make("a2", "alice", t.AddSeconds(10), "self reply", replyTo: "a1"));

        var edges = e.Graph.Graph.Edges.Select(x => (x.Source, x.Target, x.Kind, x.Weight)).OrderBy(x => x.ToString()).ToList();
        Assert.Equal(
        [
            ("bob", "alice", EdgeKind.Reply, 2.0),
            ("carol", "alice", EdgeKind.Repost, 1.0),
            ("dave", "bob", EdgeKind.Quote, 1.0),
            ("dave", "carol", EdgeKind.Mention, 1.0),
        ], edges);
        Assert.Equal(1, e.Stats.UnresolvedParents);
        Assert.Equal(1, e.Stats.SelfInteractions);
        Assert.Equal(5, e.Graph.VertexCount);
    }

    [Fact]
    public void Same_url_by_different_accounts_within_the_interval_makes_a_coshare_edge()
    {
        var e = new NetworkEngine(new NetworkOptions { CoShareInterval = TimeSpan.FromSeconds(120) });
        var t = Posts.T0;
        e.Observe(Posts.Make("1", "a", t, urls: ["https://x.example/1"]));
        e.Observe(Posts.Make("2", "b", t.AddSeconds(60), urls: ["https://x.example/1"]));
        e.Observe(Posts.Make("3", "c", t.AddSeconds(400), urls: ["https://x.example/1"])); // too late
        e.Observe(Posts.Make("4", "d", t.AddSeconds(401), media: [new("image", null, "0123456789abcdef0123456789abcdef")]));
        e.Observe(Posts.Make("5", "e", t.AddSeconds(402), media: [new("image", null, "0123456789ABCDEF0123456789ABCDEF")]));
        var co = e.Graph.Graph.Edges.Where(x => x.Kind == EdgeKind.CoShare).Select(x => (x.Source, x.Target)).Order().ToList();
        Assert.Equal([("a", "b"), ("d", "e")], co);
    }

    [Fact]
    public void Near_duplicate_text_is_coshared_and_different_text_is_not()
    {
        var e = new NetworkEngine(new NetworkOptions());
        var t = Posts.T0;
        const string baseText = "w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21";
        const string paraphrase = "w10 w11 w12 w13 w99 w15 w16 w17 w18 w19 w20 w21"; // one word swapped: Jaccard 11/13
        const string other = "w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41";
        e.Observe(Posts.Make("1", "a", t, baseText));
        e.Observe(Posts.Make("2", "b", t.AddSeconds(30), paraphrase));
        e.Observe(Posts.Make("3", "c", t.AddSeconds(40), other));
        var co = e.Graph.Graph.Edges.Where(x => x.Kind == EdgeKind.CoShare).Select(x => (x.Source, x.Target)).ToList();
        Assert.Equal([("a", "b")], co);
    }

    [Fact]
    public void Graph_stays_within_its_bounds_on_an_unbounded_stream()
    {
        var o = new NetworkOptions { Window = TimeSpan.FromHours(6), MaxVertices = 500, MaxEdges = 800, MaxPostIndex = 1000, MaxPairs = 2000 };
        var e = new NetworkEngine(o);
        var rng = new Random(42);
        var t = Posts.T0;
        int maxV = 0, maxE = 0;
        for (var i = 0; i < 60_000; i++)
        {
            t = t.AddMilliseconds(rng.Next(50, 400));
            var author = "u" + rng.Next(20_000);
            string? reply = i > 10 && rng.NextDouble() < 0.3 ? "p" + (i - 1 - rng.Next(Math.Min(i - 1, 500))) : null;
            var post = Posts.Make("p" + i, author, t, replyTo: reply, mentions: rng.NextDouble() < 0.3 ? ["u" + rng.Next(20_000)] : null,
                urls: rng.NextDouble() < 0.2 ? ["https://u.example/" + rng.Next(50)] : null);
            e.Observe(post);
            maxV = Math.Max(maxV, e.Graph.VertexCount);
            maxE = Math.Max(maxE, e.Graph.EdgeCount);
        }
        Assert.True(maxV <= o.MaxVertices, $"vertices peaked at {maxV}");
        Assert.True(maxE <= o.MaxEdges, $"edges peaked at {maxE}");
        Assert.True(e.PostIndexCount <= o.MaxPostIndex);
        Assert.True(e.Graph.EvictedVertices > 10_000, "the bound must have been reached and enforced");
        Assert.True(e.Graph.EvictionQueueLength <= (2 * o.MaxEdges) + (2 * o.MaxVertices) + 2050, $"queues {e.Graph.EvictionQueueLength}");
        Assert.True(e.TrackedPairs <= 2 * o.MaxPairs);
        Assert.Equal(e.Graph.Graph.EdgeCount, e.Graph.Graph.Edges.Count());
    }

    /// <summary>
    /// One edge per (source, target, kind): the same two accounts replying, mentioning and reposting keep three edges,
    /// each with its own weight; after both accounts left the window, their next interaction starts a fresh edge.
    /// </summary>
    [Fact]
    public void Each_kind_between_the_same_accounts_is_its_own_edge_and_starts_afresh_after_eviction()
    {
        var e = new NetworkEngine(new NetworkOptions { Window = TimeSpan.FromHours(1) });
        var t = Posts.T0;
        e.Observe(Posts.Make("a1", "alice", t));
        e.Observe(Posts.Make("b1", "bob", t.AddSeconds(1), "first reply", replyTo: "a1", mentions: ["alice"]));
        e.Observe(Posts.Make("b2", "bob", t.AddSeconds(2), "second reply", replyTo: "a1"));
        e.Observe(Posts.Make("b3", "bob", t.AddSeconds(3), "rt", repostOf: "a1", mentions: ["alice"]));
        List<(string, string, EdgeKind, double)> Edges() =>
            [.. e.Graph.Graph.Edges.Select(x => (x.Source, x.Target, x.Kind, x.Weight)).OrderBy(x => x.Kind)];
        Assert.Equal([("bob", "alice", EdgeKind.Reply, 2.0), ("bob", "alice", EdgeKind.Mention, 2.0), ("bob", "alice", EdgeKind.Repost, 1.0)], Edges());
        Assert.Equal(3, e.Graph.EdgeCount);

        e.Observe(Posts.Make("a2", "alice", t.AddHours(2))); // bob and every edge leave the window; alice comes back
        e.Observe(Posts.Make("b4", "bob", t.AddHours(2).AddSeconds(1), "back again", replyTo: "a2"));
        Assert.Equal([("bob", "alice", EdgeKind.Reply, 1.0)], Edges());
        Assert.Equal(1, e.Graph.EdgeCount);
    }

    /// <summary>
    /// The vertex queue is compacted once repeated touches leave more than 1,024 stale entries; the rebuilt queue must
    /// keep least-recently-active-first order, so the vertex bound then evicts the account idle longest, not the first
    /// one in the account table.
    /// </summary>
    [Fact]
    public void After_the_vertex_queue_is_compacted_the_bound_evicts_the_account_idle_longest()
    {
        var g = new AccountGraph(TimeSpan.FromDays(1), maxVertices: 6, maxEdges: 100);
        string[] names = ["a", "b", "c", "d", "e"];
        for (var k = 0; k < 1_100; k++) g.Touch(names[k % names.Length], 10 + k);
        for (var i = 0; i < names.Length; i++) g.Touch(names[^(i + 1)], 2_000 + i); // last active: e first, a last
        g.Touch("f", 3_000); // within the bound; compacts the queue
        Assert.True(g.EvictionQueueLength < 100, $"queue not compacted: {g.EvictionQueueLength} entries");
        g.Touch("g", 3_001); // over the bound: the account idle longest goes
        Assert.Equal(["a", "b", "c", "d", "f", "g"], g.Graph.Vertices.Order().ToArray());
    }

    /// <summary>
    /// An edge removed with its account leaves its entry in the edge queue, and its slot goes to the next new edge,
    /// which may be seen at the same time. When that stale entry comes due it must be skipped, not evict the slot's new
    /// edge: the bound then evicts the oldest live edge.
    /// </summary>
    [Fact]
    public void A_stale_queue_entry_does_not_evict_the_new_edge_in_its_slot()
    {
        var g = new AccountGraph(TimeSpan.FromDays(1), maxVertices: 3, maxEdges: 2);
        g.AddInteraction("a", "b", EdgeKind.Mention, 0);
        g.AddInteraction("c", "d", EdgeKind.Mention, 0); // four accounts: "a" goes, and its edge with it
        Assert.Equal(["c->d"], Edges(g));
        g.AddInteraction("d", "c", EdgeKind.Mention, 0); // the freed slot, at the same time as the stale entry
        g.AddInteraction("b", "c", EdgeKind.Mention, 0); // three edges: the oldest live one, c->d, goes
        Assert.Equal(["b->c", "d->c"], Edges(g));
        Assert.Equal(2, g.EdgeCount);
        Assert.Equal(2, g.EvictedEdges);

        // The QuikGraph view follows the graph after it was read once.
        g.AddInteraction("b", "d", EdgeKind.Reply, 1);
        Assert.Equal(["b->c", "b->d"], Edges(g)); // the bound took d->c, the older of the two at time 0
        Assert.Equal(["b", "c", "d"], g.Graph.Vertices.Order().ToArray());
        g.AddInteraction("b", "d", EdgeKind.Reply, 2); // only a weight changes
        Assert.Equal(2.0, g.Graph.Edges.Single(x => x.Target == "d").Weight);
    }

    private static string[] Edges(AccountGraph g) => [.. g.Graph.Edges.Select(x => $"{x.Source}->{x.Target}").Order(StringComparer.Ordinal)];

    [Fact]
    public void Idle_accounts_and_edges_leave_the_window()
    {
        var e = new NetworkEngine(new NetworkOptions { Window = TimeSpan.FromHours(1) });
        var t = Posts.T0;
        e.Observe(Posts.Make("1", "a", t));
        e.Observe(Posts.Make("2", "b", t.AddMinutes(1), replyTo: "1"));
        Assert.Equal(1, e.Graph.EdgeCount);
        e.Observe(Posts.Make("3", "c", t.AddMinutes(50)));
        Assert.Equal(3, e.Graph.VertexCount);
        e.Observe(Posts.Make("4", "c", t.AddMinutes(62)));
        Assert.Equal(0, e.Graph.EdgeCount);
        Assert.Equal(["c"], e.Graph.Graph.Vertices.ToList());
    }

    [Fact]
    public void Bad_input_is_counted_with_a_reason_not_thrown()
    {
        var e = new NetworkEngine(new NetworkOptions());
        var bad = Posts.Make("1", "", Posts.T0);
        e.Observe(bad);
        var shortSig = Posts.Make("2", "a", Posts.T0, "some words", mentions: [""]);
        shortSig.MinHash = [1, 2, 3];
        e.Observe(shortSig);
        var empty = Posts.Make("3", "b", Posts.T0, "x");
        empty.MinHash = Enumerable.Repeat(ulong.MaxValue, 64).ToArray();
        e.Observe(empty);
        Assert.Equal(1, e.Stats.Rejected["missing_field:author.id"]);
        Assert.Equal(1, e.Stats.Rejected["bad_field:minhash"]);
        Assert.Equal(1, e.Stats.Rejected["bad_field:mentions"]);
        Assert.Equal(1, e.Stats.Rejected["empty_text_signature"]);
        Assert.Equal(2, e.Stats.Posts);
    }
    /// <summary>
    /// The vertex queue's compaction orders accounts by (last active, id) with a radix sort of the times and a sort
    /// of each run of equal times by id: against a plain sort of the keys, with many equal times, ranges that stop
    /// the radix early or need every pass, and one too wide for it.
    /// </summary>
    [Theory]
    [InlineData(1, 1_000L, 5_000)]
    [InlineData(2, 6L * 3_600_000, 20_000)]
    [InlineData(3, 1L << 32, 3_000)]
    [InlineData(4, 1L << 40, 3_000)]
    [InlineData(5, 0L, 500)]
    [InlineData(6, 1L, 1)]
    public void Vertex_queue_order_is_time_then_account_id(int seed, long range, int n)
    {
        var rng = new Random(seed);
        var g = new AccountGraph(TimeSpan.FromDays(1), maxVertices: 10, maxEdges: 10);
        var start = 1_700_000_000_000L - rng.NextInt64(1_000_000);
        // Ids of mixed length and case (ordinal order), times drawn from few values half the time.
        var ids = Enumerable.Range(0, n).Select(i => (rng.Next(3) == 0 ? "U" : "u") + ":" + rng.Next(1_000_000).ToString("x") + "#" + i).ToArray();
        var keys = ids.Select(id => new AccountGraph.AccountKey(
            start + (rng.Next(2) == 0 ? rng.NextInt64(range + 1) / 997 * 997 : rng.NextInt64(range + 1)), id)).ToArray();
        var padded = keys.Concat(Enumerable.Repeat(new AccountGraph.AccountKey(0, "pad"), 7)).ToArray();
        var order = new int[n];
        g.TimeOrder(padded, n, order, new int[n]);
        var expected = (AccountGraph.AccountKey[])keys.Clone();
        Array.Sort(expected);
        Assert.Equal(expected, order.Select(i => keys[i]));
    }
    /// <summary>
    /// The edge table against a dictionary model: one edge per (source, target, kind), co-shares in either order one
    /// edge, weights summed, through several growths of the table and through expiry that removes edges from all over
    /// its chains; edges that survive are found again, not duplicated.
    /// </summary>
    [Fact]
    public void Edges_match_a_dictionary_model_through_growth_and_expiry()
    {
        var window = TimeSpan.FromHours(1);
        var g = new AccountGraph(window, maxVertices: 100_000, maxEdges: 1_000_000);
        var rng = new Random(11);
        var model = new Dictionary<(string, string, EdgeKind), (double Weight, long Last)>();
        void Interact(string a, string b, EdgeKind kind, long t)
        {
            g.AddInteraction(a, b, kind, t);
            var key = kind == EdgeKind.CoShare && string.CompareOrdinal(a, b) > 0 ? (b, a, kind) : (a, b, kind);
            var (w, last) = model.GetValueOrDefault(key);
            model[key] = (w + 1, Math.Max(last, t));
        }
        void Check()
        {
            var edges = g.Graph.Edges.ToDictionary(e => (e.Source, e.Target, e.Kind), e => e.Weight);
            Assert.Equal(model.Count, g.EdgeCount);
            Assert.Equal(model.Count, edges.Count);
            foreach (var (k, v) in model) Assert.Equal(v.Weight, edges[k]);
        }

        // 30 minutes of interactions among 120 accounts: far more edges than the table's first 1,024 buckets, and many
        // touched again after newer edges were added (so expiry removes edges ahead of survivors in their chains).
        for (var i = 0; i < 30_000; i++)
        {
            var a = "acct" + rng.Next(120);
            var b = "acct" + rng.Next(120);
            if (a == b) continue;
            Interact(a, b, (EdgeKind)rng.Next(5), 60_000L * (i / 1_000));
        }
        Assert.True(model.Count > 4_000, "too few edges to grow the table");
        Check();

        // At 75 minutes (the window is an hour): edges last seen in the first 15 minutes leave (with accounts idle as long).
        var now = 75 * 60_000L;
        g.Expire(now);
        foreach (var k in model.Where(kv => kv.Value.Last < now - (long)window.TotalMilliseconds).Select(kv => kv.Key).ToList()) model.Remove(k);
        Assert.True(model.Count > 0 && g.EvictedEdges > 1_000, $"{g.EvictedEdges} edges evicted: expiry was not exercised");
        Check();

        // Survivors interact again (co-shares in the other order): weights grow, no edge is added twice.
        foreach (var (a, b, kind) in model.Keys.ToList()) Interact(kind == EdgeKind.CoShare ? b : a, kind == EdgeKind.CoShare ? a : b, kind, now);
        Check();
    }
}
