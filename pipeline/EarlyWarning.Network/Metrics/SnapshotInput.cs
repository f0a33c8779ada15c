using System.Diagnostics;

namespace EarlyWarning.Network.Metrics;

/// <summary>
/// A copy of a window's accounts and arcs (<see cref="NetworkEngine.CaptureSnapshot"/>), from which
/// <see cref="Compute(NetworkMetrics)"/> derives the network metrics without touching the engine: PageRank, components, communities
/// and brokers over a large window take a second or more, and the engine (the pipeline's network stage) goes on
/// meanwhile.
/// </summary>
public sealed class SnapshotInput
{
    /// <summary>What a snapshot reads of an account: posts and flagged posts in the window, followers, hashtag counts.</summary>
    internal readonly record struct Account(int Posts, int FlaggedPosts, int Followers, KeyValuePair<string, int>[] Hashtags);

    private readonly DateTimeOffset _asOf;
    private readonly long _windowMs;
    private readonly string[] _names;
    private readonly Account[] _accounts;
    private readonly List<(int, int, double)> _arcs;
    private readonly int _edgeCount;
    private readonly NetworkOptions _o;
    private readonly Stopwatch _captured;

    internal SnapshotInput(DateTimeOffset asOf, long windowMs, string[] names, Account[] accounts, List<(int, int, double)> arcs,
        int edgeCount, NetworkOptions options, Stopwatch captured)
    {
        _asOf = asOf;
        _windowMs = windowMs;
        _names = names;
        _accounts = accounts;
        _arcs = arcs;
        _edgeCount = edgeCount;
        _o = options;
        _captured = captured;
    }

    /// <summary>Accounts in the window (the graph's vertices).</summary>
    public int AccountCount => _names.Length;

    /// <summary>Every community's members by PageRank, from the last <see cref="Compute(NetworkMetrics)"/> (null before it).</summary>
    internal Dictionary<int, List<string>>? Members { get; private set; }

    /// <summary>The metrics the engine's options ask for (<see cref="NetworkOptions.SnapshotMetrics"/>).</summary>
    public NetworkSnapshot Compute() => Compute(_o.SnapshotMetrics);

    /// <summary>
    /// The metrics <paramref name="metrics"/> asks for: PageRank and components always; communities (label
    /// propagation) and brokers (sampled betweenness) when asked. Reads only this copy; one call at a time.
    /// </summary>
    public NetworkSnapshot Compute(NetworkMetrics metrics)
    {
        var sw = Stopwatch.StartNew();
        var names = _names;
        var csr = CsrGraph.Build(names, _arcs);
        var pr = csr.PageRank();
        var comp = csr.Components(out var compCount);
        var commCount = compCount;
        var comm = metrics.HasFlag(NetworkMetrics.Communities) ? csr.LabelPropagation(out commCount, _o.CommunityIterations) : comp;
        var bc = metrics.HasFlag(NetworkMetrics.Betweenness) ? csr.Betweenness(NetworkEngine.BetweennessPivots(csr, _o), _o.Seed) : new double[names.Length];

        var accounts = new AccountMetrics[names.Length];
        var compSize = new int[Math.Max(compCount, 1)];
        var seenComm = new int[Math.Max(commCount, 1)];
        Array.Fill(seenComm, -1);
        for (var v = 0; v < names.Length; v++)
        {
            compSize[comp[v]]++;
            var bridged = 0;
            foreach (var u in csr.Neighbours(v))
            {
                var c = comm[u];
                if (c == comm[v] || seenComm[c] == v) continue;
                seenComm[c] = v;
                bridged++;
            }
            var a = _accounts[v];
            accounts[v] = new AccountMetrics(names[v], comm[v], comp[v], pr[v], bc[v], bridged, a.Posts, a.FlaggedPosts,
                a.Posts == 0 ? 0 : (double)a.FlaggedPosts / a.Posts, a.Followers, csr.Neighbours(v).Length);
        }
        // By PageRank, ties by account (names are in ordinal order, so by index).
        var order = new int[names.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) => pr[x] != pr[y] ? pr[y].CompareTo(pr[x]) : x.CompareTo(y));
        var clusters = new List<ClusterInfo>();
        var memberIndex = new List<int>[Math.Max(commCount, 1)];
        foreach (var v in order) (memberIndex[comm[v]] ??= []).Add(v);
        var members = new Dictionary<int, List<string>>();
        var tagCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < memberIndex.Length; id++)
        {
            var list = memberIndex[id];
            if (list is null) continue;
            members[id] = list.ConvertAll(v => names[v]);
            if (list.Count < 2) continue;
            int posts = 0, flaggedPosts = 0;
            tagCounts.Clear();
            foreach (var v in list)
            {
                posts += accounts[v].Posts;
                flaggedPosts += accounts[v].FlaggedPosts;
                foreach (var (tag, n) in _accounts[v].Hashtags) tagCounts[tag] = tagCounts.GetValueOrDefault(tag) + n;
            }
            var tags = tagCounts.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Take(5).Select(x => x.Key).ToList();
            clusters.Add(new ClusterInfo(id, list.Count, posts, flaggedPosts, posts == 0 ? 0 : (double)flaggedPosts / posts,
                [.. list.Take(5).Select(v => names[v])], tags));
        }
        Members = members;
        sw.Stop();
        return new NetworkSnapshot
        {
            AsOf = _asOf,
            WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(_asOf.ToUnixTimeMilliseconds() - _windowMs),
            VertexCount = names.Length,
            EdgeCount = _edgeCount,
            ComponentCount = compCount,
            LargestComponent = names.Length == 0 ? 0 : compSize.Max(),
            CommunityCount = commCount,
            TopAmplifiers = [.. order.Take(_o.TopN).Select(v => accounts[v])],
            Brokers = [.. accounts.Where(a => a.BridgedCommunities > 0).OrderByDescending(a => a.Betweenness)
                .ThenByDescending(a => a.BridgedCommunities).ThenByDescending(a => a.Degree)
                .ThenBy(a => a.Account, StringComparer.Ordinal).Take(_o.TopN)],
            Clusters = clusters,
            Accounts = accounts,
            // The copy and the computation (not the time between them).
            ComputeMilliseconds = _captured.Elapsed.TotalMilliseconds + sw.Elapsed.TotalMilliseconds,
        };
    }
}
