using System.Diagnostics;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Network.Metrics;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// The dashboard's live window onto a running pipeline. Network snapshots are costly (seconds on a large window),
/// so one is computed at most every <see cref="SnapshotInterval"/> and shared by every request.
/// </summary>
public sealed class LiveView : IDashboardLive
{
    private readonly PipelineRunner _runner;
    private readonly string? _model;
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private readonly object _gate = new();
    // Separate from _gate: a status request does not wait for a snapshot being computed.
    private readonly object _snapshotGate = new();
    private NetworkSnapshot? _snapshot;
    private readonly Stopwatch _snapshotAge = new();
    private (long Read, TimeSpan At) _lastRate;
    private (double Busy, double Total)[] _lastStage = [];
    private Dictionary<string, double> _stageBusy = [];

    public LiveView(PipelineRunner runner, string? model = null)
    {
        _runner = runner;
        _model = model;
    }

    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(30);

    public Http.PipelineStatus GetStatus()
    {
        var s = _runner.Status;
        var names = Observability.PipelineMetrics.QueueNames;
        var depths = new Dictionary<string, int>();
        for (var i = 0; i < s.QueueDepths.Length && i < names.Length; i++) depths[names[i]] = s.QueueDepths[i]();
        double rate;
        Dictionary<string, double> busy;
        lock (_gate)
        {
            var now = s.Elapsed;
            var read = s.Read;
            var dt = (now - _lastRate.At).TotalSeconds;
            rate = dt > 0 ? (read - _lastRate.Read) / dt : 0;
            // Stage busy shares over the same interval as the rate (since start until the first interval closes).
            var stages = StageClock.Mark(s.StageClocks);
            if (_lastStage.Length != stages.Length) _lastStage = new (double, double)[stages.Length];
            busy = new Dictionary<string, double>(_stageBusy);
            for (var i = 0; i < stages.Length; i++)
            {
                var total = stages[i].Total - _lastStage[i].Total;
                if (total > 0) busy[s.StageClocks[i].Stage] = Math.Round((stages[i].Busy - _lastStage[i].Busy) / total, 3);
            }
            if (dt >= 2)
            {
                _lastRate = (read, now);
                _lastStage = stages;
                _stageBusy = busy;
            }
        }
        return new Http.PipelineStatus
        {
            State = s.State,
            Source = s.Source,
            StartedAt = _startedAt,
            PostsRead = s.Read,
            PostsPerSecond = Math.Round(rate, 1),
            PostsStored = s.Stored,
            DeadLetters = s.DeadLettered,
            AlertsRaised = s.AlertsRaised,
            QueueDepths = depths,
            StageBusy = busy,
            Watermark = _runner.WithSignals(sig => sig.Watermark),
            Model = _model,
        };
    }

    public IReadOnlyList<Scope> GetSeriesScopes() =>
        [.. _runner.SeriesScopes.Keys.OrderBy(k => k.Country, StringComparer.Ordinal).ThenBy(k => k.Region, StringComparer.Ordinal)
            .ThenBy(k => k.TargetGroup, StringComparer.Ordinal).Select(k => new Scope(k.Country, k.Region, k.TargetGroup))];

    public IReadOnlyList<AmplifierView> GetAmplifiers(int limit)
    {
        var snap = Snapshot();
        return [.. snap.TopAmplifiers.Take(limit).Select(a =>
            new AmplifierView(a.Account, a.PageRank, a.Posts, a.FlaggedPosts, a.Followers, a.Degree, "c" + a.Community))];
    }

    public IReadOnlyList<ClusterView> GetClusters(int limit)
    {
        var snap = Snapshot();
        var coordinated = _runner.CoordinatedAccounts;
        return [.. snap.Clusters.Take(limit).Select(c => new ClusterView("c" + c.Id, c.Size, c.TopAccounts, c.FlaggedPosts,
            c.TopAccounts.Count(coordinated.ContainsKey) * 2 >= Math.Max(1, c.TopAccounts.Count), c.HatefulShare))];
    }

    public EgoNetworkView? GetEgoNetwork(string account, int depth, int maxNodes)
    {
        var ego = _runner.WithNetwork(net => net.EgoNetwork(account, depth, maxNodes));
        if (ego is null || ego.Distance.Count == 0) return null;
        var snap = Snapshot();
        var metrics = snap.Accounts.ToDictionary(a => a.Account, StringComparer.Ordinal);
        var nodes = ego.Distance.Select(kv =>
        {
            metrics.TryGetValue(kv.Key, out var m);
            return new NetworkNode(kv.Key, kv.Value, m?.PageRank ?? 0, m?.FlaggedPosts ?? 0, m is null ? null : "c" + m.Community);
        }).ToList();
        var edges = ego.Edges.Select(e => new NetworkEdge(e.Source, e.Target, e.Kind, e.Weight)).ToList();
        return new EgoNetworkView(ego.Center, nodes, edges);
    }

    private NetworkSnapshot Snapshot()
    {
        lock (_snapshotGate)
        {
            if (_snapshot is null || _snapshotAge.Elapsed > SnapshotInterval)
            {
                // The network stage is held only while the window is copied; the graph algorithms (a second or more on
                // a large window) run on the copy while it goes on.
                var input = _runner.WithNetwork(net => net.CaptureSnapshot(net.Now ?? DateTimeOffset.UtcNow));
                _snapshot = input.Compute();
                _snapshotAge.Restart();
            }
            return _snapshot;
        }
    }
}
