using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Benchmarks.Stores;

/// <summary>
/// <c>SqliteStore.WriteAsync</c> of one batch of 5,000 classified simulator posts into a fresh WAL database
/// (posts + decisions + checkpoint in one transaction), against a baseline of plain Microsoft.Data.Sqlite inserts of
/// the same posts' raw JSON (id primary key, one prepared statement, one transaction, WAL). Per batch; divide by
/// 5,000 for per post.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MonitoringInProcessConfig))]
public class StoreBenchmarks
{
    public const int BatchPosts = 5_000;
    private List<PostEnvelope> _envelopes = [];
    private string _dir = "";
    private int _n;
    private SqliteStore? _store;
    private SqliteConnection? _raw;

    [GlobalSetup]
    public void Setup()
    {
        using var classifier = PostClassifier.Load(RepoPaths.DefaultModel, RepoPaths.Lexicons);
        _envelopes = SimulatedStream.Envelopes(BatchPosts, classifier);
        _dir = Path.Combine(Path.GetTempPath(), "ew-bench-store-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [IterationSetup(Target = nameof(SqliteStoreWrite))]
    public void NewStore()
    {
        _store = new SqliteStore(Path.Combine(_dir, $"store-{_n++}.db"));
        _store.InitializeAsync().GetAwaiter().GetResult();
    }

    [IterationCleanup(Target = nameof(SqliteStoreWrite))]
    public void CloseStore() => _store!.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [IterationSetup(Target = nameof(RawSqliteInsert))]
    public void NewRaw()
    {
        _raw = new SqliteConnection($"Data Source={Path.Combine(_dir, $"raw-{_n++}.db")}");
        _raw.Open();
        using var cmd = _raw.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE posts(id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, doc BLOB NOT NULL);";
        cmd.ExecuteNonQuery();
    }

    [IterationCleanup(Target = nameof(RawSqliteInsert))]
    public void CloseRaw() => _raw!.Dispose();

    [Benchmark(Baseline = true, Description = "raw Microsoft.Data.Sqlite insert of the JSON (baseline)")]
    public int RawSqliteInsert()
    {
        using var tx = _raw!.BeginTransaction();
        using var cmd = _raw.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR REPLACE INTO posts(id, created_at, doc) VALUES ($id, $t, $doc)";
        var id = cmd.Parameters.Add("$id", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var doc = cmd.Parameters.Add("$doc", SqliteType.Blob);
        cmd.Prepare();
        foreach (var e in _envelopes)
        {
            id.Value = e.Post.Id;
            t.Value = e.Post.CreatedAt.ToUnixTimeMilliseconds();
            doc.Value = e.Post.Raw.ToArray();
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
        return _envelopes.Count;
    }

    [Benchmark(Description = "SqliteStore.WriteAsync (5,000 posts + decisions)")]
    public async Task<int> SqliteStoreWrite()
    {
        var batch = new StoreBatch();
        batch.Posts.AddRange(_envelopes);
        batch.Checkpoints["bench"] = _envelopes.Count;
        await _store!.WriteAsync(batch).ConfigureAwait(false);
        return batch.Posts.Count;
    }
}
