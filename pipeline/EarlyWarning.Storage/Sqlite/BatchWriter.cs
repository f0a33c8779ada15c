using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// The writer connection's prepared statements, created once and re-bound per row, so a batch costs one
/// transaction plus one step per row. Used only under the store's write lock.
/// </summary>
internal sealed class BatchWriter : IDisposable
{
    private readonly SqliteConnection _conn;
    private readonly Statement _insertPost;
    private readonly Statement? _indexPost;
    private readonly Statement _upsertDecision;
    private readonly Statement _insertAlert;
    private readonly Statement _updateAlert;
    private readonly Statement _insertAudit;
    private readonly Statement _insertDeadLetter;
    private readonly Statement _upsertAggregate;
    private readonly Statement _upsertCheckpoint;
    private readonly Statement _upsertState;
    private readonly Statement _updateStatus;
    private readonly Statement _insertFeedback;
    private readonly Statement[] _all;
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(1024);
    private readonly Utf8JsonWriter _json;

    public BatchWriter(SqliteConnection conn, bool fullText)
    {
        _conn = conn;
        _json = new Utf8JsonWriter(_jsonBuffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _insertPost = new(conn, """
            INSERT OR IGNORE INTO posts (id, created_at, created_at_text, author, author_handle, followers, text, lang, country,
                region, platform, raw, reported_by, source, source_offset, stored_at)
            VALUES ($id, $created_at, $created_at_text, $author, $author_handle, $followers, $text, $lang, $country,
                $region, $platform, $raw, $reported_by, $source, $source_offset, $stored_at);
            """);
        // Runs right after a post insert that added a row, so last_insert_rowid() is that post's pk.
        _indexPost = fullText ? new(conn, "INSERT INTO posts_fts(rowid, text) VALUES (last_insert_rowid(), $text);") : null;
        // A replayed post keeps its row, but its decision follows the latest classification of it.
        _upsertDecision = new(conn, """
            INSERT INTO decisions (post_id, label, scores, incitement, dehumanisation, target, flagged, explanation, terms, model)
            VALUES ($post_id, $label, $scores, $incitement, $dehumanisation, $target, $flagged, $explanation, $terms, $model)
            ON CONFLICT(post_id) DO UPDATE SET label = excluded.label, scores = excluded.scores, incitement = excluded.incitement,
                dehumanisation = excluded.dehumanisation, target = excluded.target, flagged = excluded.flagged,
                explanation = excluded.explanation, terms = excluded.terms, model = excluded.model;
            """);
        _insertAlert = new(conn, """
            INSERT OR IGNORE INTO alerts (id, kind, severity, severity_level, score, window_start, window_end, detected_at, country,
                region, target_group, language, term, baseline, observed, evidence, explanation, model, status, updated_at)
            VALUES ($id, $kind, $severity, $severity_level, $score, $window_start, $window_end, $detected_at, $country,
                $region, $target_group, $language, $term, $baseline, $observed, $evidence, $explanation, $model, $status, $updated_at);
            """);
        // An update of a known alert refreshes what detection saw; status and audit belong to the analysts.
        _updateAlert = new(conn, """
            UPDATE alerts SET window_end = $window_end, score = $score, severity = $severity, severity_level = $severity_level,
                observed = $observed, baseline = $baseline, evidence = $evidence, explanation = $explanation, updated_at = $updated_at
            WHERE id = $id;
            """);
        _insertAudit = new(conn, """
            INSERT INTO alert_audit (alert_id, at, actor, action, note) VALUES ($alert_id, $at, $actor, $action, $note);
            """);
        _insertDeadLetter = new(conn, """
            INSERT OR IGNORE INTO dead_letters (source, source_offset, reason, bytes, received_at)
            VALUES ($source, $source_offset, $reason, $bytes, $received_at);
            """);
        _upsertAggregate = new(conn, """
            INSERT INTO aggregates (bucket_start, country, region, target_group, label, count)
            VALUES ($bucket_start, $country, $region, $target_group, $label, $count)
            ON CONFLICT(bucket_start, country, region, target_group, label) DO UPDATE SET count = excluded.count;
            """);
        _upsertCheckpoint = new(conn, """
            INSERT INTO checkpoints (source, source_offset, updated_at) VALUES ($source, $source_offset, $updated_at)
            ON CONFLICT(source) DO UPDATE SET source_offset = excluded.source_offset, updated_at = excluded.updated_at
            WHERE excluded.source_offset > checkpoints.source_offset;
            """);
        _upsertState = new(conn, """
            INSERT INTO state (key, value, updated_at) VALUES ($key, $value, $updated_at)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            RETURNING rowid;
            """);
        _updateStatus = new(conn, "UPDATE alerts SET status = $status, updated_at = $updated_at WHERE id = $id;");
        _insertFeedback = new(conn, """
            INSERT INTO feedback (post_id, label, actor, note, at) VALUES ($post_id, $label, $actor, $note, $at);
            """);
        _all = [.. new[] { _indexPost }.OfType<Statement>(), _insertPost, _upsertDecision, _insertAlert, _updateAlert, _insertAudit, _insertDeadLetter, _upsertAggregate,
            _upsertCheckpoint, _upsertState, _updateStatus, _insertFeedback];
    }

    /// <summary>Writes the whole batch in one transaction; on any failure nothing of it is stored.</summary>
    public void Write(StoreBatch batch, long nowMs, CancellationToken ct)
    {
        using var tx = _conn.BeginTransaction(deferred: false);
        var i = 0;
        foreach (var env in batch.Posts)
        {
            if ((++i & 1023) == 0) ct.ThrowIfCancellationRequested();
            WritePost(env, nowMs);
        }
        foreach (var dl in batch.DeadLetters) WriteDeadLetter(dl);
        foreach (var alert in batch.Alerts) WriteAlert(alert, nowMs);
        foreach (var p in batch.Aggregates)
        {
            var s = _upsertAggregate;
            s.Set(0, p.BucketStart.ToUnixTimeMilliseconds());
            s.Set(1, p.Country);
            s.Set(2, p.Region);
            s.Set(3, p.TargetGroup);
            s.Set(4, p.Label);
            s.Set(5, p.Count);
            s.Run();
        }
        foreach (var (source, offset) in batch.Checkpoints)
        {
            var s = _upsertCheckpoint;
            s.Set(0, source);
            s.Set(1, offset);
            s.Set(2, nowMs);
            s.Run();
        }
        foreach (var (key, value) in batch.State) WriteState(key, value, nowMs);
        ct.ThrowIfCancellationRequested();
        tx.Commit();
    }

    // A state value is never put together in memory (the network window's is tens of MB in pooled blocks): the row
    // gets a zero-filled blob of its length, and the chunks are written into it in place with SQLite's incremental
    // blob I/O, inside the same transaction.
    private void WriteState(string key, StateBlob value, long nowMs)
    {
        var s = _upsertState;
        s.Set(0, key);
        s.SetZeroBlob(1, value.Length);
        s.Set(2, nowMs);
        var rowid = s.RunReturningInt64();
        if (value.Length == 0) return;
        var db = _conn.Handle!;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_blob_open(db, "main", "state", "value", rowid, 1, out var blob), db);
        using (blob)
        {
            var offset = 0;
            foreach (var segment in value.Bytes)
            {
                SqliteException.ThrowExceptionForRC(raw.sqlite3_blob_write(blob, segment.Span, offset), db);
                offset += segment.Length;
            }
        }
    }

    private void WritePost(PostEnvelope env, long nowMs)
    {
        var p = env.Post;
        var s = _insertPost;
        var created = p.CreatedAt.ToUnixTimeMilliseconds();
        s.Set(0, p.Id);
        s.Set(1, created);
        Span<byte> createdText = stackalloc byte[32];
        p.CreatedAt.UtcDateTime.TryFormat(createdText, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        s.SetUtf8(2, createdText[..written]);
        s.Set(3, p.AuthorId);
        s.Set(4, p.AuthorHandle);
        s.Set(5, p.AuthorFollowers);
        s.Set(6, p.Text);
        s.Set(7, p.Lang);
        s.Set(8, p.Country);
        s.Set(9, p.Region);
        s.Set(10, p.Platform);
        if (p.Raw.IsEmpty) s.SetNull(11);
        else s.SetUtf8(11, p.Raw.Span);
        s.Set(12, p.ReportedBy);
        s.Set(13, env.Position.Source);
        s.Set(14, env.Position.Offset);
        s.Set(15, nowMs);
        if (s.Run() == 1 && _indexPost is { } fts)
        {
            fts.Set(0, p.Text);
            fts.Run();
        }

        if (env.Decision is not { } d) return;
        var q = _upsertDecision;
        q.Set(0, p.Id);
        q.Set(1, d.Label);
        q.SetUtf8(2, Json(d.Scores));
        q.Set(3, (double)d.Incitement);
        q.Set(4, (double)d.Dehumanisation);
        q.Set(5, d.Target);
        q.Set(6, d.IsFlagged ? 1L : 0L);
        q.SetUtf8(7, Json(d.Explanation));
        q.SetUtf8(8, Json(d.Terms));
        q.Set(9, d.Model);
        q.Run();
    }

    private void WriteDeadLetter(DeadLetter dl)
    {
        var s = _insertDeadLetter;
        s.Set(0, dl.Position.Source ?? "");
        // A negative offset means "no position": stored as NULL so such letters are never merged.
        s.Set(1, dl.Position.Offset >= 0 ? dl.Position.Offset : null);
        s.Set(2, string.IsNullOrEmpty(dl.Reason) ? "unspecified" : dl.Reason);
        s.Set(3, dl.Bytes.Span);
        s.Set(4, dl.ReceivedAt.ToUnixTimeMilliseconds());
        s.Run();
    }

    private void WriteAlert(Alert a, long nowMs)
    {
        var evidence = StoreJson.Serialize(a.Evidence ?? new Evidence());
        var severity = Alert.SeverityName(a.Severity);
        var ins = _insertAlert;
        ins.Set(0, a.Id);
        ins.Set(1, a.Kind);
        ins.Set(2, severity);
        ins.Set(3, (long)a.Severity);
        ins.Set(4, a.Score);
        ins.Set(5, a.WindowStart.ToUnixTimeMilliseconds());
        ins.Set(6, a.WindowEnd.ToUnixTimeMilliseconds());
        ins.Set(7, a.DetectedAt.ToUnixTimeMilliseconds());
        ins.Set(8, a.Scope.Country);
        ins.Set(9, a.Scope.Region);
        ins.Set(10, a.Scope.TargetGroup);
        ins.Set(11, a.Scope.Language);
        ins.Set(12, a.Scope.Term);
        ins.Set(13, a.Baseline);
        ins.Set(14, a.Observed);
        ins.Set(15, evidence);
        ins.Set(16, a.Explanation);
        ins.Set(17, a.Model);
        ins.Set(18, a.Status);
        ins.Set(19, nowMs);
        if (ins.Run() == 1)
        {
            // A new alert: whatever trail it arrived with (usually none) starts its audit.
            foreach (var e in a.Audit) AppendAudit(a.Id, e.At.ToUnixTimeMilliseconds(), e.Actor, e.Action, e.Note);
            return;
        }
        var up = _updateAlert;
        up.Set(0, a.WindowEnd.ToUnixTimeMilliseconds());
        up.Set(1, a.Score);
        up.Set(2, severity);
        up.Set(3, (long)a.Severity);
        up.Set(4, a.Observed);
        up.Set(5, a.Baseline);
        up.Set(6, evidence);
        up.Set(7, a.Explanation);
        up.Set(8, nowMs);
        up.Set(9, a.Id);
        up.Run();
    }

    private void AppendAudit(string alertId, long atMs, string actor, string action, string? note)
    {
        var s = _insertAudit;
        s.Set(0, alertId);
        s.Set(1, atMs);
        s.Set(2, actor);
        s.Set(3, action);
        s.Set(4, note);
        s.Run();
    }

    /// <summary>Sets an alert's status and appends the audit entry, atomically. False when the alert does not exist.</summary>
    public bool UpdateStatus(string id, string status, string actor, string? note, long nowMs)
    {
        using var tx = _conn.BeginTransaction(deferred: false);
        var u = _updateStatus;
        u.Set(0, status);
        u.Set(1, nowMs);
        u.Set(2, id);
        if (u.Run() == 0) return false;
        AppendAudit(id, nowMs, actor, status, note);
        tx.Commit();
        return true;
    }

    public void AddFeedback(Feedback f)
    {
        using var tx = _conn.BeginTransaction(deferred: false);
        var q = _insertFeedback;
        q.Set(0, f.PostId);
        q.Set(1, f.Label);
        q.Set(2, f.Actor);
        q.Set(3, f.Note);
        q.Set(4, f.At.ToUnixTimeMilliseconds());
        q.Run();
        tx.Commit();
    }

    // JSON columns are written into one reused buffer and bound as UTF-8 (SQLite copies bound text on bind).
    private ReadOnlySpan<byte> Json(float[] scores)
    {
        ResetJson();
        JsonSerializer.Serialize(_json, scores, StoreJsonContext.Default.SingleArray);
        return _jsonBuffer.WrittenSpan;
    }

    private ReadOnlySpan<byte> Json(List<string> list)
    {
        ResetJson();
        JsonSerializer.Serialize(_json, list, StoreJsonContext.Default.ListString);
        return _jsonBuffer.WrittenSpan;
    }

    private void ResetJson()
    {
        _jsonBuffer.ResetWrittenCount();
        _json.Reset(_jsonBuffer);
    }

    public void Dispose()
    {
        foreach (var s in _all) s.Dispose();
        _json.Dispose();
    }

    /// <summary>
    /// A statement prepared once on the writer's handle and stepped directly through SQLitePCL (bind by index, step,
    /// reset): Microsoft.Data.Sqlite's per-execution reader and name lookups cost more than the insert itself.
    /// Parameters are numbered in order of first appearance in the SQL, as SQLite numbers them.
    /// </summary>
    private sealed class Statement : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _stmt;

        public Statement(SqliteConnection conn, string sql)
        {
            _db = conn.Handle ?? throw new InvalidOperationException("The writer connection is not open.");
            var rc = raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _stmt, out var tail);
            SqliteException.ThrowExceptionForRC(rc, _db);
            if (!string.IsNullOrWhiteSpace(tail)) throw new ArgumentException("One statement per Statement.", nameof(sql));
        }

        public void Set(int index, string? value)
        {
            var rc = value is null ? raw.sqlite3_bind_null(_stmt, index + 1) : raw.sqlite3_bind_text(_stmt, index + 1, value);
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        /// <summary>Binds UTF-8 text as it is (no string in between).</summary>
        public void SetUtf8(int index, ReadOnlySpan<byte> utf8) =>
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_text(_stmt, index + 1, utf8), _db);

        public void Set(int index, long value) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(_stmt, index + 1, value), _db);

        public void Set(int index, long? value)
        {
            if (value is { } v) Set(index, v);
            else SetNull(index);
        }

        public void SetNull(int index) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_null(_stmt, index + 1), _db);

        public void Set(int index, double value) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_double(_stmt, index + 1, value), _db);

        public void Set(int index, ReadOnlySpan<byte> blob) => SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_blob(_stmt, index + 1, blob), _db);

        /// <summary>Binds a zero-filled blob of <paramref name="length"/> bytes (written later through blob I/O).</summary>
        public void SetZeroBlob(int index, long length) =>
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_zeroblob(_stmt, index + 1, checked((int)length)), _db);

        /// <summary>Steps a statement with <c>RETURNING</c> one integer; every change is made by the first step.</summary>
        public long RunReturningInt64()
        {
            try
            {
                var rc = raw.sqlite3_step(_stmt);
                if (rc != raw.SQLITE_ROW) SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_DONE ? raw.SQLITE_ERROR : rc, _db);
                var value = raw.sqlite3_column_int64(_stmt, 0);
                rc = raw.sqlite3_step(_stmt);
                if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _db);
                return value;
            }
            finally
            {
                raw.sqlite3_reset(_stmt);
            }
        }

        /// <summary>Steps the statement to completion and returns the rows it changed.</summary>
        public int Run()
        {
            try
            {
                var rc = raw.sqlite3_step(_stmt);
                if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW) SqliteException.ThrowExceptionForRC(rc, _db);
                return raw.sqlite3_changes(_db);
            }
            finally
            {
                raw.sqlite3_reset(_stmt);
            }
        }

        public void Dispose() => _stmt.Dispose();
    }
}
