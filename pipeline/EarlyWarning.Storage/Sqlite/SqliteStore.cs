using System.Globalization;
using EarlyWarning.Core.Stores;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode. One long-lived writer connection (serialised by a lock,
/// with prepared statements reused across rows and batches) and short-lived pooled reader connections, so the
/// pipeline can write while the dashboard reads; WAL gives each reader a consistent snapshot. Thread-safe.
/// </summary>
public sealed partial class SqliteStore : IPipelineStore
{
    private readonly string _writerConnectionString;
    private readonly string _readerConnectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private BatchWriter? _batchWriter;
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store over the file at <paramref name="path"/> (created, with its folder, if missing).
    /// Call <see cref="InitializeAsync"/> before use, or use <see cref="OpenAsync"/>.</summary>
    public SqliteStore(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (path.StartsWith(':') || path.Contains("mode=memory", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException("SqliteStore needs a file path (WAL does not apply to in-memory databases).", nameof(path));
        Path = System.IO.Path.GetFullPath(path);
        _time = time ?? TimeProvider.System;
        _writerConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        _readerConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Opens (creating or migrating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteStore> OpenAsync(string path, CancellationToken ct = default)
    {
        var store = new SqliteStore(path);
        try
        {
            await store.InitializeAsync(ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    /// <summary>Journal mode the file is in after <see cref="InitializeAsync"/> (<c>wal</c>).</summary>
    public string JournalMode { get; private set; } = "";

    /// <summary>True when post search uses the FTS5 index; false when it falls back to LIKE (FTS5 unavailable).</summary>
    public bool FullTextSearch { get; private set; }

    /// <summary>Test hook: behave as if FTS5 were missing.</summary>
    internal bool DisableFts { get; init; }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_initialized) return;
            var dir = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var conn = new SqliteConnection(_writerConnectionString);
            try
            {
                conn.Open();
                JournalMode = ExecuteScalar(conn, "PRAGMA journal_mode=WAL;")?.ToString() ?? "";
                if (!string.Equals(JournalMode, "wal", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"SQLite refused WAL mode for '{Path}' (journal_mode is '{JournalMode}').");
                Execute(conn, "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32000; PRAGMA busy_timeout=30000;");
                Migrate(conn);
                FullTextSearch = EnsureFullText(conn);
                _batchWriter = new BatchWriter(conn, FullTextSearch);
                _writer = conn;
                _initialized = true;
            }
            catch
            {
                conn.Dispose();
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Migrate(SqliteConnection conn)
    {
        // An up-to-date file is opened without taking the write lock (a reader beside a writing pipeline must not wait).
        // Otherwise one step per transaction, each taking the write lock first (BEGIN IMMEDIATE) and reading the version
        // under it: two processes opening a new file at once (a pipeline and a dashboard, or a test polling the file)
        // must not both run the same step ("table already exists").
        var current = Convert.ToInt32(ExecuteScalar(conn, "PRAGMA user_version;"), CultureInfo.InvariantCulture);
        if (current == SqliteSchema.CurrentVersion) return;
        while (true)
        {
            using var tx = conn.BeginTransaction(deferred: false);
            var version = Convert.ToInt32(ExecuteScalar(conn, "PRAGMA user_version;", tx), CultureInfo.InvariantCulture);
            if (version > SqliteSchema.CurrentVersion)
                throw new NotSupportedException(
                    $"'{Path}' has schema version {version}; this build knows up to {SqliteSchema.CurrentVersion}. Use a newer build.");
            if (version == SqliteSchema.CurrentVersion)
            {
                tx.Commit();
                return;
            }
            Execute(conn, SqliteSchema.Migrations[version], tx);
            using (var cmd = conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT OR REPLACE INTO schema_version(version, applied_at) VALUES ($v, $t);";
                cmd.Parameters.AddWithValue("$v", version + 1);
                cmd.Parameters.AddWithValue("$t", _time.GetUtcNow().ToUnixTimeMilliseconds());
                cmd.ExecuteNonQuery();
            }
            // PRAGMA takes no parameters; the value is our own integer.
            Execute(conn, "PRAGMA user_version = " + (version + 1).ToString(CultureInfo.InvariantCulture) + ";", tx);
            tx.Commit();
        }
    }

    /// <summary>
    /// Makes the search index usable, writing only when something is missing, so that opening an up-to-date store
    /// (e.g. a second process looking at a running pipeline's file) takes no write lock.
    /// </summary>
    private bool EnsureFullText(SqliteConnection conn)
    {
        var available = !DisableFts && Fts5Available(conn);
        var stale = ExecuteScalar(conn, "SELECT value FROM store_meta WHERE key = 'fts_stale';") is not null;
        if (!available)
        {
            // Posts written from now on miss the index; the next open with FTS5 rebuilds it.
            if (!stale) Execute(conn, "INSERT OR REPLACE INTO store_meta(key, value) VALUES ('fts_stale', '1');");
            return false;
        }
        var present = Convert.ToInt64(ExecuteScalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'posts_fts';"),
            CultureInfo.InvariantCulture) == 1;
        if (present && !stale) return true;
        using var tx = conn.BeginTransaction(deferred: false);
        Execute(conn, SqliteSchema.CreateFts, tx);
        Execute(conn, SqliteSchema.TuneFts, tx);
        Execute(conn, "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild');", tx);
        Execute(conn, "DELETE FROM store_meta WHERE key = 'fts_stale';", tx);
        tx.Commit();
        return true;
    }

    private static bool Fts5Available(SqliteConnection conn)
    {
        try
        {
            Execute(conn, "CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x); DROP TABLE temp.fts5_probe;");
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            _batchWriter?.Dispose();
            if (_writer is not null)
            {
                // Fold what the WAL holds back into the main file, without waiting on other processes' readers.
                try { Execute(_writer, "PRAGMA wal_checkpoint(PASSIVE);"); }
                catch (SqliteException) { /* readers still open: SQLite checkpoints later */ }
                await _writer.DisposeAsync().ConfigureAwait(false);
            }
            using var pooled = new SqliteConnection(_readerConnectionString);
            SqliteConnection.ClearPool(pooled);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void EnsureOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_initialized) throw new InvalidOperationException("SqliteStore.InitializeAsync has not been called.");
    }

    /// <summary>Runs <paramref name="action"/> on the writer connection, serialised with every other write.</summary>
    private async Task<T> WithWriterAsync<T>(Func<SqliteConnection, BatchWriter, T> action, CancellationToken ct)
    {
        EnsureOpen();
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return action(_writer!, _batchWriter!);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>A reader connection from the pool; dispose it when done. Readers never block the writer (WAL).</summary>
    private SqliteConnection OpenReader()
    {
        EnsureOpen();
        var conn = new SqliteConnection(_readerConnectionString);
        try
        {
            conn.Open();
            return conn;
        }
        catch
        {
            conn.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection conn, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? ExecuteScalar(SqliteConnection conn, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static long ToUnixMs(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static object DbValue(string? s) => s is null ? DBNull.Value : s;
}
