using System.Collections.Concurrent;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Integration.Tests;

/// <summary>
/// An in-memory <see cref="IPipelineStore"/> for the dashboard tests, following the stores' conventions: timelines
/// are summed over the dimensions a query leaves free (reported as "*"), alerts come newest window first.
/// </summary>
internal sealed class DashboardFakeStore : IPipelineStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredPost> _posts = [];
    private readonly Dictionary<string, Alert> _alerts = [];
    private readonly List<SeriesPoint> _aggregates = [];
    private readonly List<StoredDeadLetter> _dead = [];
    private readonly List<Feedback> _feedback = [];
    private readonly ConcurrentDictionary<string, long> _checkpoints = new();

    public int SearchCalls;

    public Task InitializeAsync(CancellationToken ct = default) => Task.CompletedTask;

    public Task WriteAsync(StoreBatch batch, CancellationToken ct = default)
    {
        lock (_gate)
        {
            foreach (var e in batch.Posts)
            {
                var p = e.Post;
                var d = e.Decision;
                _posts[p.Id] = new StoredPost(p.Id, p.CreatedAt, p.AuthorId, p.Text, p.Lang, p.Country, p.Region, d?.Label, d?.Scores,
                    d?.Target, d?.Incitement ?? 0, d?.Dehumanisation ?? 0, d?.Explanation ?? [], d?.Model);
            }
            foreach (var a in batch.Alerts) _alerts[a.Id] = a;
            foreach (var s in batch.Aggregates)
            {
                _aggregates.RemoveAll(x => x.BucketStart == s.BucketStart && x.Country == s.Country && x.Region == s.Region && x.TargetGroup == s.TargetGroup && x.Label == s.Label);
                _aggregates.Add(s);
            }
            foreach (var d in batch.DeadLetters)
                _dead.Add(new StoredDeadLetter(_dead.Count + 1, d.Position.Source, d.Position.Offset, d.Reason, d.Bytes.ToArray(), d.ReceivedAt));
            foreach (var (k, v) in batch.Checkpoints) _checkpoints[k] = v;
        }
        return Task.CompletedTask;
    }

    public Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default) =>
        Task.FromResult(_checkpoints.TryGetValue(source, out var v) ? v : (long?)null);

    public Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default) => Task.FromResult<byte[]?>(null);

    public Task<IReadOnlyList<Alert>> GetAlertsAsync(AlertQuery q, CancellationToken ct = default)
    {
        lock (_gate)
        {
            IReadOnlyList<Alert> list = _alerts.Values
                .Where(a => (q.Country is null || a.Scope.Country == q.Country) && (q.Region is null || a.Scope.Region == q.Region)
                    && (q.Kind is null || a.Kind == q.Kind) && (q.Status is null || a.Status == q.Status)
                    && (q.MinSeverity is null || a.Severity >= q.MinSeverity) && (q.From is null || a.WindowEnd >= q.From)
                    && (q.To is null || a.WindowStart <= q.To))
                .OrderByDescending(a => a.WindowStart).ThenBy(a => a.Id, StringComparer.Ordinal)
                .Take(q.Limit).Select(Copy).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_alerts.TryGetValue(id, out var a) ? Copy(a) : null);
    }

    public Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default)
    {
        if (!AlertStatus.IsValid(status)) throw new ArgumentException("bad status", nameof(status));
        lock (_gate)
        {
            if (!_alerts.TryGetValue(id, out var a)) return Task.FromResult(false);
            a.Status = status;
            a.Audit.Add(new AuditEntry(DateTimeOffset.UtcNow, actor, "status:" + status, note));
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<SeriesPoint>> GetTimelineAsync(TimelineQuery q, CancellationToken ct = default)
    {
        lock (_gate)
        {
            IReadOnlyList<SeriesPoint> list = _aggregates
                .Where(p => (q.Country is null || p.Country == q.Country) && (q.Region is null || p.Region == q.Region)
                    && (q.TargetGroup is null || p.TargetGroup == q.TargetGroup) && (q.Label is null || p.Label == q.Label)
                    && (q.From is null || p.BucketStart >= q.From) && (q.To is null || p.BucketStart < q.To))
                .GroupBy(p => p.BucketStart).OrderBy(g => g.Key)
                .Select(g => new SeriesPoint(g.Key, q.Country ?? "*", q.Region ?? "*", q.TargetGroup ?? "*", q.Label ?? "*", g.Sum(p => p.Count)))
                .ToList();
            return Task.FromResult(list);
        }
    }

    public Task<StoredPost?> GetPostAsync(string id, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_posts.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default)
    {
        Interlocked.Increment(ref SearchCalls);
        var terms = query.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        lock (_gate)
        {
            IReadOnlyList<StoredPost> list = _posts.Values
                .Where(p => terms.Length > 0 && terms.All(t => p.Text.Contains(t, StringComparison.OrdinalIgnoreCase)))
                .OrderByDescending(p => p.CreatedAt).Take(limit).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<IReadOnlyList<StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<StoredDeadLetter>>(_dead.AsEnumerable().Reverse().Take(limit).ToList());
    }

    public Task AddFeedbackAsync(Feedback feedback, CancellationToken ct = default)
    {
        lock (_gate) _feedback.Add(feedback);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Feedback>> GetFeedbackAsync(CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<Feedback>>(_feedback.ToList());
    }

    public Task<StoreCounts> GetCountsAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            var flagged = _posts.Values.Count(p => p.Label is not null and not Labels.None || p.Incitement >= 0.5f || p.Dehumanisation >= 0.5f);
            return Task.FromResult(new StoreCounts(_posts.Count, flagged, _alerts.Count, _dead.Count, _feedback.Count));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static Alert Copy(Alert a) => new()
    {
        Id = a.Id, Kind = a.Kind, Severity = a.Severity, Score = a.Score, WindowStart = a.WindowStart, WindowEnd = a.WindowEnd,
        DetectedAt = a.DetectedAt, Scope = a.Scope, Baseline = a.Baseline, Observed = a.Observed, Evidence = a.Evidence,
        Explanation = a.Explanation, Model = a.Model, Status = a.Status, Audit = [.. a.Audit],
    };
}
