using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Core.Stores;

/// <summary>
/// Everything one pipeline step hands to a store in one atomic write: a store acknowledges a batch only when
/// all of it is durable, and a source commits its offsets only after that (at-least-once).
/// Writes are idempotent: posts by id, alerts by id, aggregates by key, so a replay never duplicates.
/// </summary>
public sealed class StoreBatch
{
    public List<PostEnvelope> Posts { get; } = [];
    public List<DeadLetter> DeadLetters { get; } = [];
    public List<Alert> Alerts { get; } = [];
    public List<SeriesPoint> Aggregates { get; } = [];
    /// <summary>Highest source offset (per source) whose message is fully reflected by this batch and those before it.</summary>
    public Dictionary<string, long> Checkpoints { get; } = [];
    /// <summary>
    /// Opaque state of stateful stages, stored with the checkpoints it reflects (key → bytes). The batch's producer
    /// disposes the blobs once the store has written them (their chunks go back to the pool); a store never keeps one.
    /// </summary>
    public Dictionary<string, StateBlob> State { get; } = [];

    /// <summary>
    /// How many posts at the end of <see cref="Posts"/> were read earlier and are stored now as evidence of an alert
    /// (with <c>--store-posts flagged</c>, unflagged posts an alert cites). Their decisions were made when they were
    /// read; the latency of storing them belongs to the alert, not to a decision.
    /// </summary>
    public int EvidencePosts { get; set; }

    /// <summary>Stopwatch timestamp at which the oldest post of the batch that raised <see cref="Alerts"/> was read (0: none, e.g. the end-of-stream flush).</summary>
    public long AlertsReadTimestamp { get; set; }

    public bool IsEmpty => Posts.Count == 0 && DeadLetters.Count == 0 && Alerts.Count == 0 && Aggregates.Count == 0 && Checkpoints.Count == 0 && State.Count == 0;
}

/// <summary>A closed time bucket of one series: counts of posts per country/region × target group × label.</summary>
public sealed record SeriesPoint(DateTimeOffset BucketStart, string Country, string Region, string TargetGroup, string Label, long Count);

/// <summary>A post as a store gives it back for display and search (author already pseudonymised).</summary>
public sealed record StoredPost(
    string Id, DateTimeOffset CreatedAt, string Author, string Text, string? Lang, string? Country, string? Region,
    string? Label, float[]? Scores, string? Target, float Incitement, float Dehumanisation, IReadOnlyList<string> Explanation, string? Model);

/// <summary>A dead-letter record as stored.</summary>
public sealed record StoredDeadLetter(long Id, string Source, long Offset, string Reason, byte[] Bytes, DateTimeOffset ReceivedAt);

/// <summary>Analyst feedback on a stored decision: the label the analyst says is right. Becomes training data.</summary>
public sealed record Feedback(string PostId, string Label, string Actor, string? Note, DateTimeOffset At);

/// <summary>Filter for alert queries; nulls mean "any".</summary>
public sealed record AlertQuery(string? Country = null, string? Region = null, string? Kind = null, string? Status = null,
    Severity? MinSeverity = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Limit = 500);

/// <summary>Filter for timeline queries; nulls mean "all", and the counts are summed over what is left free.</summary>
public sealed record TimelineQuery(string? Country = null, string? Region = null, string? TargetGroup = null, string? Label = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>Counts of what a store holds.</summary>
public sealed record StoreCounts(long Posts, long FlaggedPosts, long Alerts, long DeadLetters, long Feedback);

/// <summary>
/// The store abstraction every store implements (SQLite embedded default, Elasticsearch scale-out).
/// A shared conformance suite in the tests runs against each implementation.
/// </summary>
public interface IPipelineStore : IAsyncDisposable
{
    /// <summary>Creates schema/templates if missing. Safe to call on an existing store.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>Writes one batch atomically (or, for stores without transactions, idempotently and completely before returning).</summary>
    Task WriteAsync(StoreBatch batch, CancellationToken ct = default);

    /// <summary>The last checkpointed offset of a source, or null when the source has never been seen.</summary>
    Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default);

    /// <summary>Stored state of a stateful stage, or null.</summary>
    Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default);

    Task<IReadOnlyList<Alert>> GetAlertsAsync(AlertQuery query, CancellationToken ct = default);
    Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default);

    /// <summary>Changes an alert's status and appends to its audit trail. False when no such alert exists.</summary>
    Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default);

    Task<IReadOnlyList<SeriesPoint>> GetTimelineAsync(TimelineQuery query, CancellationToken ct = default);
    Task<StoredPost?> GetPostAsync(string id, CancellationToken ct = default);
    Task<IReadOnlyList<StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default);
    Task<IReadOnlyList<StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default);
    Task AddFeedbackAsync(Feedback feedback, CancellationToken ct = default);
    Task<IReadOnlyList<Feedback>> GetFeedbackAsync(CancellationToken ct = default);
    Task<StoreCounts> GetCountsAsync(CancellationToken ct = default);
}
