using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// The safeguards' tables in the same SQLite file as <see cref="SqliteStore"/>: the hash-chained audit log, appeals,
/// the encrypted re-identification map and pseudonym forwarding after key rotation, plus the retention queries the
/// pipeline store does not offer (alerts, decisions, compaction). Its own connection, serialised by a lock; writes take
/// SQLite's write lock (<c>BEGIN IMMEDIATE</c>), so the audit chain stays linear across processes too. Thread-safe.
/// </summary>
public sealed partial class SqliteSafeguardStore : IAsyncDisposable, IDisposable
{
    private const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private const string Schema =
        """
        CREATE TABLE IF NOT EXISTS safeguard_audit (
            seq         INTEGER PRIMARY KEY,
            at          INTEGER NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            target      TEXT NOT NULL,
            note        TEXT,
            prev_hash   TEXT NOT NULL,
            hash        TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_safeguard_audit_at ON safeguard_audit(at);
        CREATE TRIGGER IF NOT EXISTS safeguard_audit_no_update BEFORE UPDATE ON safeguard_audit
            BEGIN SELECT RAISE(ABORT, 'safeguard_audit is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS safeguard_audit_no_delete BEFORE DELETE ON safeguard_audit
            BEGIN SELECT RAISE(ABORT, 'safeguard_audit is append-only'); END;

        CREATE TABLE IF NOT EXISTS appeals (
            id              TEXT PRIMARY KEY,
            post_id         TEXT NOT NULL,
            reason          TEXT NOT NULL,
            on_behalf_of    TEXT NOT NULL,
            filed_by        TEXT NOT NULL,
            filed_at        INTEGER NOT NULL,
            original_label  TEXT,
            status          TEXT NOT NULL,
            reviewer        TEXT,
            reviewed_at     INTEGER,
            corrected_label TEXT,
            review_note     TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_appeals_post ON appeals(post_id);
        CREATE INDEX IF NOT EXISTS ix_appeals_status ON appeals(status, filed_at);

        CREATE TABLE IF NOT EXISTS pseudonym_map (
            key_version INTEGER NOT NULL,
            pseudonym   TEXT NOT NULL,
            nonce       BLOB NOT NULL,
            ciphertext  BLOB NOT NULL,
            tag         BLOB NOT NULL,
            PRIMARY KEY (key_version, pseudonym)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS pseudonym_forward (
            old_version     INTEGER NOT NULL,
            old_pseudonym   TEXT NOT NULL,
            new_version     INTEGER NOT NULL,
            new_pseudonym   TEXT NOT NULL,
            PRIMARY KEY (old_version, old_pseudonym)
        ) WITHOUT ROWID;
        """;

    private readonly SqliteConnection _conn;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TimeProvider _time;
    private bool _disposed;

    /// <summary>Opens (creating the safeguard tables if missing) the database file at <paramref name="path"/>.</summary>
    public SqliteSafeguardStore(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _time = time ?? TimeProvider.System;
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _conn = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            _conn.Open();
            Exec("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=30000; PRAGMA secure_delete=ON;");
            Exec(Schema);
        }
        catch
        {
            _conn.Dispose();
            throw;
        }
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    // ---------------------------------------------------------------- audit log

    /// <summary>
    /// Appends one entry, chained to the current head. The head is read and the entry written in one write
    /// transaction, so concurrent writers (threads or processes) cannot fork the chain.
    /// </summary>
    public Task<AuditRecord> AppendAuditAsync(string actor, string action, string target, string? note, DateTimeOffset? at = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentNullException.ThrowIfNull(target);
        var when = DateTimeOffset.FromUnixTimeMilliseconds((at ?? _time.GetUtcNow()).ToUnixTimeMilliseconds());
        return WithLockAsync(() =>
        {
            using var tx = _conn.BeginTransaction(deferred: false);
            long seq = 1;
            var prev = Genesis;
            using (var cmd = Cmd("SELECT seq, hash FROM safeguard_audit ORDER BY seq DESC LIMIT 1;", tx))
            using (var r = cmd.ExecuteReader())
            {
                if (r.Read()) { seq = r.GetInt64(0) + 1; prev = r.GetString(1); }
            }
            var hash = AuditHash(prev, seq, when, actor, action, target, note);
            using (var cmd = Cmd("INSERT INTO safeguard_audit(seq, at, actor, action, target, note, prev_hash, hash) " +
                                 "VALUES ($seq, $at, $actor, $action, $target, $note, $prev, $hash);", tx))
            {
                cmd.Parameters.AddWithValue("$seq", seq);
                cmd.Parameters.AddWithValue("$at", when.ToUnixTimeMilliseconds());
                cmd.Parameters.AddWithValue("$actor", actor);
                cmd.Parameters.AddWithValue("$action", action);
                cmd.Parameters.AddWithValue("$target", target);
                cmd.Parameters.AddWithValue("$note", (object?)note ?? DBNull.Value);
                cmd.Parameters.AddWithValue("$prev", prev);
                cmd.Parameters.AddWithValue("$hash", hash);
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
            return new AuditRecord(seq, when, actor, action, target, note, prev, hash);
        }, ct);
    }

    /// <summary>Entries in sequence order, optionally limited to <c>at</c> in [from, to) and to one action prefix.</summary>
    public Task<IReadOnlyList<AuditRecord>> ReadAuditAsync(DateTimeOffset? from = null, DateTimeOffset? to = null,
        string? actionPrefix = null, int limit = int.MaxValue, CancellationToken ct = default) =>
        WithLockAsync<IReadOnlyList<AuditRecord>>(() =>
        {
            var list = new List<AuditRecord>();
            using var cmd = Cmd("SELECT seq, at, actor, action, target, note, prev_hash, hash FROM safeguard_audit " +
                                "WHERE at >= $from AND at < $to AND ($prefix IS NULL OR substr(action, 1, length($prefix)) = $prefix) " +
                                "ORDER BY seq LIMIT $limit;");
            cmd.Parameters.AddWithValue("$from", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
            cmd.Parameters.AddWithValue("$to", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
            cmd.Parameters.AddWithValue("$prefix", (object?)actionPrefix ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$limit", limit);
            using var r = cmd.ExecuteReader();
            while (r.Read()) list.Add(ReadAudit(r));
            return list;
        }, ct);

    /// <summary>Recomputes the whole chain; reports the first entry whose link or hash does not match.</summary>
    public Task<AuditVerification> VerifyAuditAsync(CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            using var tx = _conn.BeginTransaction(deferred: true);
            using var cmd = Cmd("SELECT seq, at, actor, action, target, note, prev_hash, hash FROM safeguard_audit ORDER BY seq;", tx);
            using var r = cmd.ExecuteReader();
            var chain = new AuditChainVerifier();
            while (r.Read())
            {
                if (!chain.Add(ReadAudit(r))) break;
            }
            return chain.Result;
        }, ct);

    /// <summary>
    /// SHA-256 over the previous hash and the entry's fields, each length-prefixed (a null note differs from "").
    /// Public so that an exported log can be verified without the database.
    /// </summary>
    public static string AuditHash(string prevHash, long seq, DateTimeOffset at, string actor, string action, string target, string? note)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> n = stackalloc byte[8];
        h.AppendData(Encoding.ASCII.GetBytes(prevHash));
        BinaryPrimitives.WriteInt64BigEndian(n, seq);
        h.AppendData(n);
        BinaryPrimitives.WriteInt64BigEndian(n, at.ToUnixTimeMilliseconds());
        h.AppendData(n);
        foreach (var field in new[] { actor, action, target, note })
        {
            if (field is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(n, -1);
                h.AppendData(n[..4]);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(n, bytes.Length);
            h.AppendData(n[..4]);
            h.AppendData(bytes);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private static AuditRecord ReadAudit(SqliteDataReader r) => new(
        r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7));

    // ---------------------------------------------------------------- re-identification map

    /// <summary>Stores encrypted originals; an entry already present for the same version and pseudonym is kept.</summary>
    public Task<int> PutPseudonymsAsync(IReadOnlyCollection<EncryptedPseudonym> entries, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return Task.FromResult(0);
        return WithLockAsync(() =>
        {
            using var tx = _conn.BeginTransaction(deferred: false);
            using var cmd = Cmd("INSERT OR IGNORE INTO pseudonym_map(key_version, pseudonym, nonce, ciphertext, tag) VALUES ($v, $p, $n, $c, $t);", tx);
            var v = cmd.Parameters.Add("$v", SqliteType.Integer);
            var p = cmd.Parameters.Add("$p", SqliteType.Text);
            var n = cmd.Parameters.Add("$n", SqliteType.Blob);
            var c = cmd.Parameters.Add("$c", SqliteType.Blob);
            var t = cmd.Parameters.Add("$t", SqliteType.Blob);
            var added = 0;
            foreach (var e in entries)
            {
                v.Value = e.KeyVersion;
                p.Value = e.Pseudonym;
                n.Value = e.Nonce;
                c.Value = e.Ciphertext;
                t.Value = e.Tag;
                added += cmd.ExecuteNonQuery();
            }
            tx.Commit();
            return added;
        }, ct);
    }

    /// <summary>The encrypted original of a pseudonym under one key version, or null.</summary>
    public Task<EncryptedPseudonym?> GetPseudonymAsync(int keyVersion, string pseudonym, CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            using var cmd = Cmd("SELECT nonce, ciphertext, tag FROM pseudonym_map WHERE key_version = $v AND pseudonym = $p;");
            cmd.Parameters.AddWithValue("$v", keyVersion);
            cmd.Parameters.AddWithValue("$p", pseudonym);
            using var r = cmd.ExecuteReader();
            return r.Read() ? new EncryptedPseudonym(keyVersion, pseudonym, (byte[])r[0], (byte[])r[1], (byte[])r[2]) : null;
        }, ct);

    /// <summary>All entries of one key version (for rotation).</summary>
    public Task<IReadOnlyList<EncryptedPseudonym>> GetPseudonymsAsync(int keyVersion, CancellationToken ct = default) =>
        WithLockAsync<IReadOnlyList<EncryptedPseudonym>>(() =>
        {
            var list = new List<EncryptedPseudonym>();
            using var cmd = Cmd("SELECT pseudonym, nonce, ciphertext, tag FROM pseudonym_map WHERE key_version = $v ORDER BY pseudonym;");
            cmd.Parameters.AddWithValue("$v", keyVersion);
            using var r = cmd.ExecuteReader();
            while (r.Read()) list.Add(new EncryptedPseudonym(keyVersion, r.GetString(0), (byte[])r[1], (byte[])r[2], (byte[])r[3]));
            return list;
        }, ct);

    /// <summary>Counts map entries per key version (a privacy check: zero when re-identification is off).</summary>
    public Task<long> CountPseudonymsAsync(CancellationToken ct = default) =>
        WithLockAsync(() => Convert.ToInt64(Scalar("SELECT count(*) FROM pseudonym_map;"), CultureInfo.InvariantCulture), ct);

    /// <summary>Writes a rotation's forwarding entries and the re-encrypted map under the new version in one transaction.</summary>
    public Task PutRotationAsync(IReadOnlyCollection<PseudonymForward> forwards, IReadOnlyCollection<EncryptedPseudonym> reencrypted,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(forwards);
        ArgumentNullException.ThrowIfNull(reencrypted);
        return WithLockAsync(() =>
        {
            using var tx = _conn.BeginTransaction(deferred: false);
            using (var cmd = Cmd("INSERT OR REPLACE INTO pseudonym_forward(old_version, old_pseudonym, new_version, new_pseudonym) VALUES ($ov, $op, $nv, $np);", tx))
            {
                var ov = cmd.Parameters.Add("$ov", SqliteType.Integer);
                var op = cmd.Parameters.Add("$op", SqliteType.Text);
                var nv = cmd.Parameters.Add("$nv", SqliteType.Integer);
                var np = cmd.Parameters.Add("$np", SqliteType.Text);
                foreach (var f in forwards)
                {
                    ov.Value = f.OldVersion;
                    op.Value = f.OldPseudonym;
                    nv.Value = f.NewVersion;
                    np.Value = f.NewPseudonym;
                    cmd.ExecuteNonQuery();
                }
            }
            using (var cmd = Cmd("INSERT OR IGNORE INTO pseudonym_map(key_version, pseudonym, nonce, ciphertext, tag) VALUES ($v, $p, $n, $c, $t);", tx))
            {
                var v = cmd.Parameters.Add("$v", SqliteType.Integer);
                var p = cmd.Parameters.Add("$p", SqliteType.Text);
                var n = cmd.Parameters.Add("$n", SqliteType.Blob);
                var c = cmd.Parameters.Add("$c", SqliteType.Blob);
                var t = cmd.Parameters.Add("$t", SqliteType.Blob);
                foreach (var e in reencrypted)
                {
                    v.Value = e.KeyVersion;
                    p.Value = e.Pseudonym;
                    n.Value = e.Nonce;
                    c.Value = e.Ciphertext;
                    t.Value = e.Tag;
                    cmd.ExecuteNonQuery();
                }
            }
            tx.Commit();
            return true;
        }, ct);
    }

    /// <summary>The pseudonym an old pseudonym maps to after rotation(s), following the chain to the newest version.</summary>
    public Task<PseudonymForward?> ForwardAsync(int oldVersion, string oldPseudonym, CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            PseudonymForward? result = null;
            var (v, p) = (oldVersion, oldPseudonym);
            // Bounded: each step moves to a strictly newer version.
            for (var i = 0; i < 1000; i++)
            {
                using var cmd = Cmd("SELECT new_version, new_pseudonym FROM pseudonym_forward WHERE old_version = $v AND old_pseudonym = $p;");
                cmd.Parameters.AddWithValue("$v", v);
                cmd.Parameters.AddWithValue("$p", p);
                using var r = cmd.ExecuteReader();
                if (!r.Read()) break;
                var nv = r.GetInt32(0);
                if (nv <= v) break;
                (v, p) = (nv, r.GetString(1));
                result = new PseudonymForward(oldVersion, oldPseudonym, v, p);
            }
            return result;
        }, ct);

    // ---------------------------------------------------------------- appeals

    /// <summary>The current label and flag of a post's decision, or null when the post or its decision is not stored.</summary>
    public Task<(string Label, bool Flagged)?> GetDecisionAsync(string postId, CancellationToken ct = default) =>
        WithLockAsync<(string, bool)?>(() =>
        {
            using var cmd = Cmd("SELECT label, flagged FROM decisions WHERE post_id = $id;");
            cmd.Parameters.AddWithValue("$id", postId);
            using var r = cmd.ExecuteReader();
            return r.Read() ? (r.GetString(0), r.GetInt64(1) != 0) : null;
        }, ct);

    /// <summary>Inserts a new appeal (status open).</summary>
    public Task InsertAppealAsync(AppealRecord appeal, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(appeal);
        return WithLockAsync(() =>
        {
            using var cmd = Cmd("INSERT INTO appeals(id, post_id, reason, on_behalf_of, filed_by, filed_at, original_label, status) " +
                                "VALUES ($id, $post, $reason, $behalf, $by, $at, $label, $status);");
            cmd.Parameters.AddWithValue("$id", appeal.Id);
            cmd.Parameters.AddWithValue("$post", appeal.PostId);
            cmd.Parameters.AddWithValue("$reason", appeal.Reason);
            cmd.Parameters.AddWithValue("$behalf", appeal.OnBehalfOf);
            cmd.Parameters.AddWithValue("$by", appeal.FiledBy);
            cmd.Parameters.AddWithValue("$at", appeal.FiledAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$label", (object?)appeal.OriginalLabel ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$status", appeal.Status);
            cmd.ExecuteNonQuery();
            return true;
        }, ct);
    }

    /// <summary>Records a review. False when the appeal does not exist or was already reviewed (a review is final).</summary>
    public Task<bool> CompleteAppealAsync(string id, string status, string reviewer, DateTimeOffset at, string? correctedLabel, string? note,
        CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            using var cmd = Cmd("UPDATE appeals SET status = $status, reviewer = $reviewer, reviewed_at = $at, corrected_label = $label, " +
                                "review_note = $note WHERE id = $id AND status = 'open';");
            cmd.Parameters.AddWithValue("$id", id);
            cmd.Parameters.AddWithValue("$status", status);
            cmd.Parameters.AddWithValue("$reviewer", reviewer);
            cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$label", (object?)correctedLabel ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$note", (object?)note ?? DBNull.Value);
            return cmd.ExecuteNonQuery() == 1;
        }, ct);

    /// <summary>Appeals, oldest first, optionally only those in one status.</summary>
    public Task<IReadOnlyList<AppealRecord>> GetAppealsAsync(string? status = null, string? id = null, CancellationToken ct = default) =>
        WithLockAsync<IReadOnlyList<AppealRecord>>(() =>
        {
            var list = new List<AppealRecord>();
            using var cmd = Cmd("SELECT id, post_id, reason, on_behalf_of, filed_by, filed_at, original_label, status, reviewer, reviewed_at, " +
                                "corrected_label, review_note FROM appeals WHERE ($status IS NULL OR status = $status) AND ($id IS NULL OR id = $id) " +
                                "ORDER BY filed_at, id;");
            cmd.Parameters.AddWithValue("$status", (object?)status ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$id", (object?)id ?? DBNull.Value);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                list.Add(new AppealRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
                    DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), Str(r, 6), r.GetString(7), Str(r, 8),
                    r.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)), Str(r, 10), Str(r, 11)));
            }
            return list;
        }, ct);

    // ---------------------------------------------------------------- retention

    /// <summary>Deletes alerts whose window ended before <paramref name="cutoff"/>. Their audit trail stays (audit is never expired).</summary>
    public Task<int> DeleteAlertsOlderThanAsync(DateTimeOffset cutoff, CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            if (!TableExists("alerts")) return 0;
            using var cmd = Cmd("DELETE FROM alerts WHERE window_end < $cutoff;");
            cmd.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        }, ct);

    /// <summary>Deletes the decisions of posts created before <paramref name="cutoff"/> (the posts themselves stay).</summary>
    public Task<int> DeleteDecisionsOlderThanAsync(DateTimeOffset cutoff, CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            if (!TableExists("decisions")) return 0;
            using var cmd = Cmd("DELETE FROM decisions WHERE post_id IN (SELECT id FROM posts WHERE created_at < $cutoff);");
            cmd.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        }, ct);

    /// <summary>
    /// Makes deleted content leave the file: merges the full-text index into one segment (an FTS5 delete only adds
    /// tombstones until then), rebuilds the file (<c>VACUUM</c>), and truncates the WAL. Returns the file sizes before and
    /// after. False in <c>WalTruncated</c> when a reader still holds an old snapshot; the next run finishes the job.
    /// </summary>
    public Task<(long BytesBefore, long BytesAfter, bool WalTruncated)> CompactAsync(CancellationToken ct = default) =>
        WithLockAsync(() =>
        {
            var before = FileSize(Path) + FileSize(Path + "-wal");
            if (TableExists("posts_fts")) Exec("INSERT INTO posts_fts(posts_fts) VALUES ('optimize');");
            Exec("VACUUM;");
            var truncated = true;
            using (var cmd = Cmd("PRAGMA wal_checkpoint(TRUNCATE);"))
            using (var r = cmd.ExecuteReader())
            {
                // Columns: busy, log frames, checkpointed frames.
                if (r.Read()) truncated = r.GetInt64(0) == 0;
            }
            return (before, FileSize(Path) + FileSize(Path + "-wal"), truncated);
        }, ct);

    private static long FileSize(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    // ---------------------------------------------------------------- plumbing

    private bool TableExists(string name)
    {
        using var cmd = Cmd("SELECT count(*) FROM sqlite_master WHERE name = $n;");
        cmd.Parameters.AddWithValue("$n", name);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    private async Task<T> WithLockAsync<T>(Func<T> action, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return action();
        }
        finally
        {
            _lock.Release();
        }
    }

    private SqliteCommand Cmd(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd;
    }

    private void Exec(string sql)
    {
        using var cmd = Cmd(sql);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var cmd = Cmd(sql);
        return cmd.ExecuteScalar();
    }

    private static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public void Dispose()
    {
        _lock.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _conn.Dispose();
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Walks an audit chain entry by entry (from the database or an exported JSONL file) and reports the first break.</summary>
public sealed class AuditChainVerifier
{
    private string _head = "0000000000000000000000000000000000000000000000000000000000000000";
    private long _expectedSeq = 1;
    private long _count;
    private long? _badSeq;
    private string? _problem;

    /// <summary>Checks the next entry; false once the chain is broken (further entries are not checked).</summary>
    public bool Add(AuditRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (_badSeq is not null) return false;
        _count++;
        if (e.Seq != _expectedSeq) return Fail(e.Seq, $"expected entry {_expectedSeq}, found {e.Seq} (an entry was removed or inserted)");
        if (!string.Equals(e.PrevHash, _head, StringComparison.Ordinal)) return Fail(e.Seq, "previous-hash link does not match the entry before");
        var hash = SqliteSafeguardStore.AuditHash(e.PrevHash, e.Seq, e.At, e.Actor, e.Action, e.Target, e.Note);
        if (!string.Equals(hash, e.Hash, StringComparison.Ordinal)) return Fail(e.Seq, "content does not match its hash (the entry was changed)");
        _head = e.Hash;
        _expectedSeq++;
        return true;
    }

    /// <summary>The verdict so far.</summary>
    public AuditVerification Result => new(_badSeq is null, _count, _badSeq, _problem, _head);

    private bool Fail(long seq, string problem)
    {
        _badSeq = seq;
        _problem = problem;
        return false;
    }
}
