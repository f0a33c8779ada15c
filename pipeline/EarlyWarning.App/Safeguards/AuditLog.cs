using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>Action names written to the audit log (DESIGN.md safeguards: every view of raw data and every decision).</summary>
public static class AuditActions
{
    /// <summary>The dashboard's own actions keep their names (<c>view_post</c>, <c>search_posts</c>, <c>alert_status:*</c>, <c>feedback:*</c>).</summary>
    public const string ViewPost = "view_post";
    public const string SearchPosts = "search_posts";
    /// <summary>A read of dead letters' original (decrypted, never pseudonymised) bytes.</summary>
    public const string ViewDeadLetters = "view_dead_letters";
    public const string AlertStatusPrefix = "alert_status:";
    public const string Reidentify = "reidentify";
    public const string ReidentifyDenied = "reidentify_denied";
    public const string KeyRotation = "key_rotation";
    public const string ConfigChange = "config_change";
    public const string RetentionRun = "retention_run";
    public const string AppealFiled = "appeal_filed";
    public const string AppealReviewed = "appeal_reviewed";
    public const string AppealDenied = "appeal_denied";
    public const string AuditExport = "audit_export";
}

/// <summary>
/// The append-only, hash-chained audit log: who did what to which object, when. Never holds content, only
/// identifiers of the objects acted on. Entries cannot be changed or removed; <see cref="VerifyAsync"/> detects it if
/// someone with file access does so anyway.
/// </summary>
public interface IAuditLog
{
    Task<AuditRecord> AppendAsync(string actor, string action, string target, string? note = null, CancellationToken ct = default);
    Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset? from = null, DateTimeOffset? to = null, string? actionPrefix = null,
        CancellationToken ct = default);
    Task<AuditVerification> VerifyAsync(CancellationToken ct = default);
    /// <summary>Writes the entries (with their hashes, so the export can be verified offline) as JSON lines; returns how many.</summary>
    Task<long> ExportJsonlAsync(TextWriter output, DateTimeOffset? from = null, DateTimeOffset? to = null, CancellationToken ct = default);
}

/// <summary>The audit log in the SQLite file (<see cref="SqliteSafeguardStore"/>).</summary>
public sealed class SqliteAuditLog(SqliteSafeguardStore store) : IAuditLog
{
    public Task<AuditRecord> AppendAsync(string actor, string action, string target, string? note = null, CancellationToken ct = default) =>
        store.AppendAuditAsync(actor, action, target, note, null, ct);

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset? from = null, DateTimeOffset? to = null, string? actionPrefix = null,
        CancellationToken ct = default) => store.ReadAuditAsync(from, to, actionPrefix, int.MaxValue, ct);

    public Task<AuditVerification> VerifyAsync(CancellationToken ct = default) => store.VerifyAuditAsync(ct);

    public async Task<long> ExportJsonlAsync(TextWriter output, DateTimeOffset? from = null, DateTimeOffset? to = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var entries = await store.ReadAuditAsync(from, to, null, int.MaxValue, ct).ConfigureAwait(false);
        foreach (var e in entries) await output.WriteLineAsync(AuditJsonl.Format(e)).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
        return entries.Count;
    }

    /// <summary>
    /// A callback for <see cref="DashboardOptions.Audit"/>: each dashboard event becomes a log entry. The callback must not
    /// throw, so a failed write is reported on <paramref name="errors"/> with its reason rather than dropped silently.
    /// </summary>
    public Action<DashboardAuditEvent> DashboardSink(TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return e =>
        {
            try
            {
                store.AppendAuditAsync(e.Actor, e.Action, e.Target, null, e.At).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or InvalidOperationException or ArgumentException)
            {
                errors.WriteLine($"audit: could not record {e.Action} on {e.Target} by {e.Actor}: {ex.Message}");
            }
        };
    }
}

/// <summary>The audit log's JSON-lines export: one object per entry, keys in snake_case, verifiable with <see cref="Verify"/>.</summary>
public static class AuditJsonl
{
    public static string Format(AuditRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", e.Seq);
            w.WriteString("at", e.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("actor", e.Actor);
            w.WriteString("action", e.Action);
            w.WriteString("target", e.Target);
            if (e.Note is null) w.WriteNull("note"); else w.WriteString("note", e.Note);
            w.WriteString("prev_hash", e.PrevHash);
            w.WriteString("hash", e.Hash);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Checks an exported log from its first entry (a full export) and reports the first break, or a line that does not parse.</summary>
    public static AuditVerification Verify(TextReader input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var chain = new AuditChainVerifier();
        long line = 0;
        while (input.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            AuditRecord e;
            try
            {
                using var doc = JsonDocument.Parse(text);
                var r = doc.RootElement;
                e = new AuditRecord(r.GetProperty("seq").GetInt64(),
                    DateTimeOffset.Parse(r.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    r.GetProperty("actor").GetString()!, r.GetProperty("action").GetString()!, r.GetProperty("target").GetString()!,
                    r.GetProperty("note").ValueKind == JsonValueKind.Null ? null : r.GetProperty("note").GetString(),
                    r.GetProperty("prev_hash").GetString()!, r.GetProperty("hash").GetString()!);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentNullException)
            {
                var so = chain.Result;
                return new AuditVerification(false, so.Entries, null, $"line {line} is not an audit entry: {ex.Message}", so.HeadHash);
            }
            if (!chain.Add(e)) break;
        }
        return chain.Result;
    }
}
