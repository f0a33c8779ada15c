using EarlyWarning.Core.Alerts;

namespace EarlyWarning.App.Http;

/// <summary>
/// Live, in-memory views the running pipeline offers the dashboard: its status and the network stage's snapshots.
/// Called from HTTP request threads, concurrently with the pipeline: implementations must be thread-safe and cheap
/// (return a copy of the last snapshot rather than walking live state under the pipeline's feet).
/// </summary>
public interface IDashboardLive
{
    /// <summary>The pipeline's current status.</summary>
    PipelineStatus GetStatus();

    /// <summary>
    /// The (country, region, target group) scopes the signal stage keeps series for. Stores sum timelines over the
    /// dimensions a query leaves free and cannot list their values, so the dashboard asks the store once per scope.
    /// </summary>
    IReadOnlyList<Scope> GetSeriesScopes();

    /// <summary>The most influential accounts (pseudonyms), strongest first; at most <paramref name="limit"/>.</summary>
    IReadOnlyList<AmplifierView> GetAmplifiers(int limit);

    /// <summary>Clusters of accounts (largest or most suspicious first); at most <paramref name="limit"/>.</summary>
    IReadOnlyList<ClusterView> GetClusters(int limit);

    /// <summary>An account's ego network up to <paramref name="depth"/> hops with at most <paramref name="maxNodes"/> nodes, or null when the account is unknown.</summary>
    EgoNetworkView? GetEgoNetwork(string account, int depth, int maxNodes);
}

/// <summary>What the pipeline is doing now. Counters are totals since start; rates are recent averages.</summary>
public sealed record PipelineStatus
{
    /// <summary><c>starting</c>, <c>running</c>, <c>draining</c>, <c>finished</c>, <c>failed</c> or <c>idle</c> (no pipeline).</summary>
    public string State { get; init; } = "idle";
    public string? Source { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public long PostsRead { get; init; }
    public double PostsPerSecond { get; init; }
    public long PostsStored { get; init; }
    public long DeadLetters { get; init; }
    public long AlertsRaised { get; init; }
    /// <summary>Items waiting in each bounded channel, by stage name.</summary>
    public IReadOnlyDictionary<string, int> QueueDepths { get; init; } = new Dictionary<string, int>();
    /// <summary>
    /// Share of recent wall-clock time (0–1) each stage spent working rather than waiting for input or for the next stage,
    /// by stage name: the stage near 1 while the others wait is the one that bounds throughput.
    /// </summary>
    public IReadOnlyDictionary<string, double> StageBusy { get; init; } = new Dictionary<string, double>();
    /// <summary>Event-time watermark: the largest event time seen minus the allowed lateness.</summary>
    public DateTimeOffset? Watermark { get; init; }
    public string? Model { get; init; }
    /// <summary>The last error that stopped the pipeline, if any (a message, never post content).</summary>
    public string? Error { get; init; }
}

/// <summary>An account that spreads content widely (PageRank or similar), by pseudonym.</summary>
public sealed record AmplifierView(string Account, double Score, long Posts, long FlaggedPosts, int Followers, int Degree, string? Cluster);

/// <summary>A cluster of accounts; <see cref="Coordinated"/> when the network stage judged it a coordinated campaign.</summary>
public sealed record ClusterView(string Id, int Size, IReadOnlyList<string> TopAccounts, long FlaggedPosts, bool Coordinated, double Score);

/// <summary>A node of an ego network (an account pseudonym) and its distance from the centre.</summary>
public sealed record NetworkNode(string Id, int Hop, double Score, long FlaggedPosts, string? Cluster);

/// <summary>A directed edge of an ego network: <c>reply</c>, <c>mention</c>, <c>repost</c>, <c>quote</c> or <c>co_share</c>.</summary>
public sealed record NetworkEdge(string Source, string Target, string Kind, double Weight);

/// <summary>An account's ego network as nodes and edges, ready to draw.</summary>
public sealed record EgoNetworkView(string Center, IReadOnlyList<NetworkNode> Nodes, IReadOnlyList<NetworkEdge> Edges);

/// <summary>An <see cref="IDashboardLive"/> with no pipeline behind it: idle status and empty networks (tests, read-only serving).</summary>
public sealed class NullDashboardLive : IDashboardLive
{
    public static readonly NullDashboardLive Instance = new();

    public PipelineStatus GetStatus() => new();
    public IReadOnlyList<Scope> GetSeriesScopes() => [];
    public IReadOnlyList<AmplifierView> GetAmplifiers(int limit) => [];
    public IReadOnlyList<ClusterView> GetClusters(int limit) => [];
    public EgoNetworkView? GetEgoNetwork(string account, int depth, int maxNodes) => null;
}
