using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Storage.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>
    /// Writes the batch in one transaction: posts are inserted once by id (a replay is ignored) with their decisions,
    /// alerts are inserted or refreshed by id (status and audit kept), aggregates replace their bucket's count,
    /// checkpoints only move forward, state is replaced. A batch that cannot be stored is rejected whole with the reason.
    /// </summary>
    public async Task WriteAsync(StoreBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty) return;
        Validate(batch);
        await WithWriterAsync((_, w) =>
        {
            w.Write(batch, ToUnixMs(_time.GetUtcNow()), ct);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (status is null || !AlertStatus.IsValid(status))
            throw new ArgumentException($"'{status}' is not an alert status (new, acknowledged, escalated, dismissed).", nameof(status));
        return await WithWriterAsync((_, w) => w.UpdateStatus(id, status, actor, note, ToUnixMs(_time.GetUtcNow())), ct)
            .ConfigureAwait(false);
    }

    public async Task AddFeedbackAsync(Feedback feedback, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        if (string.IsNullOrEmpty(feedback.PostId)) throw new ArgumentException("Feedback needs the post id.", nameof(feedback));
        if (string.IsNullOrWhiteSpace(feedback.Label)) throw new ArgumentException("Feedback needs a label.", nameof(feedback));
        if (string.IsNullOrWhiteSpace(feedback.Actor)) throw new ArgumentException("Feedback needs an actor.", nameof(feedback));
        await WithWriterAsync((_, w) =>
        {
            w.AddFeedback(feedback);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes what is older than <paramref name="cutoff"/> for one <see cref="RetentionKinds"/> kind (posts with their
    /// decisions and search entries, dead letters, or aggregate buckets), in one transaction. Returns the rows deleted
    /// (for posts: posts only). Alerts and their audit trail are never expired here.
    /// </summary>
    public async Task<int> DeleteOlderThanAsync(string kind, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        if (kind is null || !RetentionKinds.IsValid(kind))
            throw new ArgumentException($"'{kind}' is not a retention kind ({string.Join(", ", RetentionKinds.All)}).", nameof(kind));
        var ms = ToUnixMs(cutoff);
        return await WithWriterAsync((conn, _) =>
        {
            using var tx = conn.BeginTransaction(deferred: false);
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.Parameters.AddWithValue("$cutoff", ms);
            int deleted;
            switch (kind)
            {
                case RetentionKinds.Posts:
                    if (FullTextSearch)
                    {
                        // External content: the index is told what each deleted row held, before the row goes.
                        cmd.CommandText = "INSERT INTO posts_fts(posts_fts, rowid, text) SELECT 'delete', pk, text FROM posts WHERE created_at < $cutoff;";
                        cmd.ExecuteNonQuery();
                    }
                    cmd.CommandText = "DELETE FROM decisions WHERE post_id IN (SELECT id FROM posts WHERE created_at < $cutoff);";
                    cmd.ExecuteNonQuery();
                    cmd.CommandText = "DELETE FROM posts WHERE created_at < $cutoff;";
                    deleted = cmd.ExecuteNonQuery();
                    break;
                case RetentionKinds.DeadLetters:
                    cmd.CommandText = "DELETE FROM dead_letters WHERE received_at < $cutoff;";
                    deleted = cmd.ExecuteNonQuery();
                    break;
                default:
                    cmd.CommandText = "DELETE FROM aggregates WHERE bucket_start < $cutoff;";
                    deleted = cmd.ExecuteNonQuery();
                    break;
            }
            tx.Commit();
            return deleted;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Housekeeping for a periodic job (e.g. after retention): merges the search index's segments, lets SQLite refresh
    /// its query-planner statistics, and folds the WAL back into the database file.
    /// </summary>
    public async Task MaintainAsync(CancellationToken ct = default)
    {
        await WithWriterAsync((conn, _) =>
        {
            if (FullTextSearch) Execute(conn, "INSERT INTO posts_fts(posts_fts, rank) VALUES ('merge', 500);");
            Execute(conn, "PRAGMA optimize;");
            Execute(conn, "PRAGMA wal_checkpoint(PASSIVE);");
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Rejects a batch the schema could not hold faithfully, naming the first offending item.</summary>
    private static void Validate(StoreBatch batch)
    {
        for (var i = 0; i < batch.Posts.Count; i++)
        {
            var env = batch.Posts[i] ?? throw new ArgumentException($"Posts[{i}] is null.", nameof(batch));
            var p = env.Post ?? throw new ArgumentException($"Posts[{i}] has no post.", nameof(batch));
            if (string.IsNullOrEmpty(p.Id)) throw new ArgumentException($"Posts[{i}] has no id.", nameof(batch));
            if (p.AuthorId is null || p.Text is null) throw new ArgumentException($"Post '{p.Id}' lacks author or text.", nameof(batch));
            if (env.Decision is { } d && (string.IsNullOrEmpty(d.Label) || d.Scores is null || d.Explanation is null || d.Terms is null))
                throw new ArgumentException($"The decision of post '{p.Id}' lacks a label, scores, explanation or terms.", nameof(batch));
        }
        for (var i = 0; i < batch.DeadLetters.Count; i++)
        {
            if (batch.DeadLetters[i] is null) throw new ArgumentException($"DeadLetters[{i}] is null.", nameof(batch));
        }
        for (var i = 0; i < batch.Alerts.Count; i++)
        {
            var a = batch.Alerts[i] ?? throw new ArgumentException($"Alerts[{i}] is null.", nameof(batch));
            if (string.IsNullOrEmpty(a.Id) || string.IsNullOrEmpty(a.Kind) || a.Scope is null || a.Explanation is null)
                throw new ArgumentException($"Alerts[{i}] lacks an id, kind, scope or explanation.", nameof(batch));
            if (!AlertStatus.IsValid(a.Status)) throw new ArgumentException($"Alert '{a.Id}' has an invalid status '{a.Status}'.", nameof(batch));
            if (!Enum.IsDefined(a.Severity)) throw new ArgumentException($"Alert '{a.Id}' has an invalid severity.", nameof(batch));
        }
        foreach (var p in batch.Aggregates)
        {
            if (p is null || p.Country is null || p.Region is null || p.TargetGroup is null || p.Label is null)
                throw new ArgumentException("An aggregate point lacks a dimension (use \"\" for none).", nameof(batch));
        }
        foreach (var (_, value) in batch.State)
        {
            if (value is null) throw new ArgumentException("A state entry has no value.", nameof(batch));
        }
    }
}
