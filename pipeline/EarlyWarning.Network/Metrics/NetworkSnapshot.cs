namespace EarlyWarning.Network.Metrics;

/// <summary>Per-account metrics of one snapshot.</summary>
/// <param name="Account">Pseudonymised account id.</param>
/// <param name="Community">Community (cluster) id, 0 = largest.</param>
/// <param name="Component">Weakly connected component id, 0 = largest.</param>
/// <param name="PageRank">Weighted PageRank on the attention graph (replier/mentioner/reposter → author): how far an account's voice is carried.</param>
/// <param name="Betweenness">Approximate betweenness on the undirected graph (brokerage between parts of the network).</param>
/// <param name="BridgedCommunities">Number of other communities this account has neighbours in.</param>
/// <param name="Posts">Posts of this account in the window.</param>
/// <param name="FlaggedPosts">Posts flagged by the classifier (any label but none, or incitement/dehumanisation).</param>
/// <param name="HatefulShare">Flagged posts / posts of this account in the window (0 when it did not post).</param>
/// <param name="Followers">Largest follower count seen.</param>
/// <param name="Degree">Distinct neighbours in the undirected view.</param>
public sealed record AccountMetrics(
    string Account, int Community, int Component, double PageRank, double Betweenness, int BridgedCommunities,
    int Posts, int FlaggedPosts, double HatefulShare, int Followers, int Degree);

/// <summary>A community (cluster) of accounts with its hateful-content share and top content.</summary>
public sealed record ClusterInfo(int Id, int Size, int Posts, int FlaggedPosts, double HatefulShare, IReadOnlyList<string> TopAccounts, IReadOnlyList<string> TopHashtags);

/// <summary>Network metrics over one window, computed on demand from a compact CSR copy of the account graph.</summary>
public sealed record NetworkSnapshot
{
    public required DateTimeOffset AsOf { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required int VertexCount { get; init; }
    public required int EdgeCount { get; init; }
    public required int ComponentCount { get; init; }
    public required int LargestComponent { get; init; }
    public required int CommunityCount { get; init; }
    /// <summary>Accounts by PageRank, highest first.</summary>
    public required IReadOnlyList<AccountMetrics> TopAmplifiers { get; init; }
    /// <summary>Accounts by approximate betweenness, highest first (only those bridging at least one other community).</summary>
    public required IReadOnlyList<AccountMetrics> Brokers { get; init; }
    /// <summary>Communities with at least two members, largest first.</summary>
    public required IReadOnlyList<ClusterInfo> Clusters { get; init; }
    /// <summary>Every account in the window, in ordinal id order.</summary>
    public required IReadOnlyList<AccountMetrics> Accounts { get; init; }
    /// <summary>Wall-clock time spent building the CSR and computing, in milliseconds.</summary>
    public double ComputeMilliseconds { get; init; }
}

/// <summary>One edge as analysts see it (ego networks, exports).</summary>
public sealed record EdgeView(string Source, string Target, string Kind, double Weight, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>An account's neighbourhood up to a depth: the accounts (with hop distance) and the edges among them.</summary>
public sealed record EgoNetwork(string Center, int Depth, IReadOnlyDictionary<string, int> Distance, IReadOnlyList<EdgeView> Edges, bool Truncated);

/// <summary>A vertex as exported (GraphML/GEXF).</summary>
public sealed record NodeView(string Id, int Posts, int FlaggedPosts, int Followers, string? Country, string? Region);

/// <summary>A window's graph as exported.</summary>
public sealed record GraphView(DateTimeOffset WindowStart, DateTimeOffset WindowEnd, IReadOnlyList<NodeView> Nodes, IReadOnlyList<EdgeView> Edges);

/// <summary>Metrics a snapshot computes beyond PageRank and components.</summary>
[Flags]
public enum NetworkMetrics
{
    /// <summary>PageRank (amplifiers) and weakly connected components only: the periodic refresh.</summary>
    Refresh = 0,
    /// <summary>Communities by label propagation (clusters).</summary>
    Communities = 1,
    /// <summary>Brokers by sampled betweenness (needs communities to be meaningful).</summary>
    Betweenness = 2,
    /// <summary>Everything.</summary>
    All = Communities | Betweenness,
}
