using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Integration.Tests;

/// <summary>A store that passes everything to <paramref name="inner"/>; tests override <see cref="WriteAsync"/> to watch or fail writes.</summary>
internal class DelegatingStore(IPipelineStore inner) : IPipelineStore
{
    public virtual Task WriteAsync(StoreBatch batch, CancellationToken ct = default) => inner.WriteAsync(batch, ct);

    public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);
    public Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default) => inner.GetCheckpointAsync(source, ct);
    public Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default) => inner.GetStateAsync(key, ct);
    public Task<IReadOnlyList<Alert>> GetAlertsAsync(AlertQuery query, CancellationToken ct = default) => inner.GetAlertsAsync(query, ct);
    public Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default) => inner.GetAlertAsync(id, ct);
    public Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default) =>
        inner.UpdateAlertStatusAsync(id, status, actor, note, ct);
    public Task<IReadOnlyList<SeriesPoint>> GetTimelineAsync(TimelineQuery query, CancellationToken ct = default) => inner.GetTimelineAsync(query, ct);
    public Task<StoredPost?> GetPostAsync(string id, CancellationToken ct = default) => inner.GetPostAsync(id, ct);
    public Task<IReadOnlyList<StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default) => inner.SearchPostsAsync(query, limit, ct);
    public Task<IReadOnlyList<StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default) => inner.GetDeadLettersAsync(limit, ct);
    public Task AddFeedbackAsync(Feedback feedback, CancellationToken ct = default) => inner.AddFeedbackAsync(feedback, ct);
    public Task<IReadOnlyList<Feedback>> GetFeedbackAsync(CancellationToken ct = default) => inner.GetFeedbackAsync(ct);
    public Task<StoreCounts> GetCountsAsync(CancellationToken ct = default) => inner.GetCountsAsync(ct);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the test disposes the inner store
}
