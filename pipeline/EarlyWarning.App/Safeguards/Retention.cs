using System.Globalization;
using EarlyWarning.Storage;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>
/// How long each kind of data is kept; null keeps it. The audit log has no entry here: it is never expired.
/// Posts and decisions age by event time (<c>created_at</c>), alerts by the end of their window, aggregates by bucket
/// start, dead letters by when they were received.
/// </summary>
public sealed record RetentionPolicy
{
    public TimeSpan? Posts { get; init; }
    public TimeSpan? Decisions { get; init; }
    public TimeSpan? DeadLetters { get; init; }
    public TimeSpan? Aggregates { get; init; }
    public TimeSpan? Alerts { get; init; }
    /// <summary>After deleting, rebuild the file so deleted bytes leave it (VACUUM, WAL truncation).</summary>
    public bool Compact { get; init; } = true;

    /// <summary>
    /// Parses <c>posts=30d,decisions=90d,dead_letters=7d,aggregates=365d,alerts=365d</c> (units m, h, d; <c>keep</c> for
    /// none). Throws <see cref="FormatException"/> naming the bad part; <c>audit</c> is refused (never expired).
    /// </summary>
    public static RetentionPolicy Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new RetentionPolicy();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new FormatException($"retention '{part}' is not KIND=DURATION");
            var kind = part[..eq].Trim();
            var value = ParseDuration(part[(eq + 1)..].Trim(), part);
            p = kind switch
            {
                "posts" => p with { Posts = value },
                "decisions" => p with { Decisions = value },
                "dead_letters" => p with { DeadLetters = value },
                "aggregates" => p with { Aggregates = value },
                "alerts" => p with { Alerts = value },
                "audit" => throw new FormatException("the audit log is never expired"),
                _ => throw new FormatException($"unknown retention kind '{kind}' (posts, decisions, dead_letters, aggregates, alerts)"),
            };
        }
        return p;
    }

    private static TimeSpan? ParseDuration(string s, string part)
    {
        if (s == "keep") return null;
        if (s.Length < 2 || !double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsNaN(n))
            throw new FormatException($"retention '{part}': duration must be a number with unit m, h or d, or 'keep'");
        return s[^1] switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => throw new FormatException($"retention '{part}': unit must be m, h or d"),
        };
    }
}

/// <summary>What one retention run deleted (rows per kind) and what compaction did to the file.</summary>
public sealed record RetentionResult(DateTimeOffset Now, IReadOnlyDictionary<string, int> Deleted, long BytesBefore, long BytesAfter, bool WalTruncated);

/// <summary>
/// Enforces a <see cref="RetentionPolicy"/> on the SQLite store: deletes expired rows (posts with their decisions and
/// full-text entries, decisions, dead letters, aggregates, alerts), then compacts the file so the bytes are gone too.
/// Each run is audited. The app schedules <see cref="RunScheduledAsync"/> every N minutes.
/// </summary>
public sealed class RetentionJob(SqliteStore store, SqliteSafeguardStore safeguards, RetentionPolicy policy, IAuditLog audit, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public const string Actor = "system:retention";

    /// <summary>Runs once against <paramref name="now"/> (default: the clock).</summary>
    public async Task<RetentionResult> RunOnceAsync(DateTimeOffset? now = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(safeguards);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(audit);
        var t = now ?? _time.GetUtcNow();
        var deleted = new SortedDictionary<string, int>(StringComparer.Ordinal);
        if (policy.Decisions is { } d) deleted["decisions"] = await safeguards.DeleteDecisionsOlderThanAsync(t - d, ct).ConfigureAwait(false);
        if (policy.Posts is { } p) deleted[RetentionKinds.Posts] = await store.DeleteOlderThanAsync(RetentionKinds.Posts, t - p, ct).ConfigureAwait(false);
        if (policy.DeadLetters is { } dl) deleted[RetentionKinds.DeadLetters] = await store.DeleteOlderThanAsync(RetentionKinds.DeadLetters, t - dl, ct).ConfigureAwait(false);
        if (policy.Aggregates is { } ag) deleted[RetentionKinds.Aggregates] = await store.DeleteOlderThanAsync(RetentionKinds.Aggregates, t - ag, ct).ConfigureAwait(false);
        if (policy.Alerts is { } al) deleted["alerts"] = await safeguards.DeleteAlertsOlderThanAsync(t - al, ct).ConfigureAwait(false);

        long before = 0, after = 0;
        var truncated = true;
        if (policy.Compact && deleted.Values.Any(n => n > 0))
            (before, after, truncated) = await safeguards.CompactAsync(ct).ConfigureAwait(false);

        var note = string.Join(", ", deleted.Select(kv => $"{kv.Key}={kv.Value.ToString(CultureInfo.InvariantCulture)}"));
        if (before > 0) note += string.Create(CultureInfo.InvariantCulture, $"; file {before} -> {after} bytes{(truncated ? "" : "; WAL busy")}");
        await audit.AppendAsync(Actor, AuditActions.RetentionRun, "store", note.Length == 0 ? "nothing configured" : note, ct).ConfigureAwait(false);
        return new RetentionResult(t, deleted, before, after, truncated);
    }

    /// <summary>
    /// Runs now and then every <paramref name="interval"/> until cancelled. A failed run is reported on
    /// <paramref name="log"/> with its reason and retried at the next tick; it never stops the app.
    /// </summary>
    public async Task RunScheduledAsync(TimeSpan interval, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), "the retention interval must be positive");
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            try
            {
                var r = await RunOnceAsync(null, ct).ConfigureAwait(false);
                log.WriteLine($"retention: {string.Join(", ", r.Deleted.Select(kv => $"{kv.Key} {kv.Value}"))}");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
            {
                log.WriteLine($"retention: run failed, retrying in {interval}: {ex.Message}");
            }
        }
        while (await WaitAsync(timer, ct).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { return false; }
    }
}
