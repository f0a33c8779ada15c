using System.Globalization;
using System.Text;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Storage.Sqlite;

public sealed partial class SqliteStore
{
    private const string AlertColumns =
        "id, kind, severity_level, score, window_start, window_end, detected_at, country, region, target_group, language, term, " +
        "baseline, observed, evidence, explanation, model, status";

    private const string PostColumns =
        "p.id, p.created_at, p.author, p.text, p.lang, p.country, p.region, d.label, d.scores, d.target, d.incitement, " +
        "d.dehumanisation, d.explanation, d.model";

    public Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT source_offset FROM checkpoints WHERE source = $s;";
        cmd.Parameters.AddWithValue("$s", source);
        return Task.FromResult(cmd.ExecuteScalar() is long v ? v : (long?)null);
    }

    public Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM state WHERE key = $k;";
        cmd.Parameters.AddWithValue("$k", key);
        return Task.FromResult(cmd.ExecuteScalar() as byte[]);
    }

    /// <summary>
    /// Alerts matching every non-null filter, newest window first. <c>From</c>/<c>To</c> select alerts whose window
    /// overlaps [From, To]; <c>MinSeverity</c> is inclusive. Each alert carries its audit trail.
    /// </summary>
    public Task<IReadOnlyList<Alert>> GetAlertsAsync(AlertQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Min(query.Limit, StoreConventions.MaxQueryLimit);
        if (limit <= 0) return Task.FromResult<IReadOnlyList<Alert>>([]);
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true);
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        var where = new StringBuilder("1 = 1");
        void Filter(string column, string param, object? value, string op = "=")
        {
            if (value is null) return;
            where.Append(CultureInfo.InvariantCulture, $" AND {column} {op} {param}");
            cmd.Parameters.AddWithValue(param, value);
        }
        Filter("country", "$country", query.Country);
        Filter("region", "$region", query.Region);
        Filter("kind", "$kind", query.Kind);
        Filter("status", "$status", query.Status);
        Filter("severity_level", "$min_severity", query.MinSeverity is { } s ? (long)s : null, ">=");
        Filter("window_end", "$from", query.From is { } f ? ToUnixMs(f) : null, ">=");
        Filter("window_start", "$to", query.To is { } t ? ToUnixMs(t) : null, "<=");
        cmd.CommandText = $"SELECT {AlertColumns} FROM alerts WHERE {where} ORDER BY window_start DESC, detected_at DESC, id LIMIT $limit;";
        cmd.Parameters.AddWithValue("$limit", limit);
        var alerts = new List<Alert>();
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read()) alerts.Add(ReadAlert(r));
        }
        LoadAudit(conn, tx, alerts);
        tx.Commit();
        return Task.FromResult<IReadOnlyList<Alert>>(alerts);
    }

    public Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true);
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT {AlertColumns} FROM alerts WHERE id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        Alert? alert = null;
        using (var r = cmd.ExecuteReader())
        {
            if (r.Read()) alert = ReadAlert(r);
        }
        if (alert is not null) LoadAudit(conn, tx, [alert]);
        tx.Commit();
        return Task.FromResult(alert);
    }

    private static void LoadAudit(SqliteConnection conn, SqliteTransaction tx, List<Alert> alerts)
    {
        if (alerts.Count == 0) return;
        var byId = new Dictionary<string, Alert>(alerts.Count, StringComparer.Ordinal);
        foreach (var a in alerts) byId[a.Id] = a;
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        // One query for the whole page: the ids travel as one JSON array parameter.
        cmd.CommandText = "SELECT alert_id, at, actor, action, note FROM alert_audit " +
            "WHERE alert_id IN (SELECT value FROM json_each($ids)) ORDER BY alert_id, id;";
        cmd.Parameters.AddWithValue("$ids", StoreJson.Serialize(byId.Keys.ToList()));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            if (byId.TryGetValue(r.GetString(0), out var a))
                a.Audit.Add(new AuditEntry(FromUnixMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        }
    }

    private static Alert ReadAlert(SqliteDataReader r)
    {
        var level = r.GetInt64(2);
        return new Alert
        {
            Id = r.GetString(0),
            Kind = r.GetString(1),
            Severity = level is >= 0 and <= 3 ? (Severity)level : Severity.Critical,
            Score = r.GetDouble(3),
            WindowStart = FromUnixMs(r.GetInt64(4)),
            WindowEnd = FromUnixMs(r.GetInt64(5)),
            DetectedAt = FromUnixMs(r.GetInt64(6)),
            Scope = new Scope(Str(r, 7), Str(r, 8), Str(r, 9), Str(r, 10), Str(r, 11)),
            Baseline = r.GetDouble(12),
            Observed = r.GetDouble(13),
            Evidence = StoreJson.ParseEvidence(Str(r, 14)),
            Explanation = r.GetString(15),
            Model = Str(r, 16),
            Status = r.GetString(17),
        };
    }

    /// <summary>
    /// Counts per bucket, ordered by bucket start, summed over every dimension the query leaves null (such a dimension
    /// reads <see cref="StoreConventions.AnyValue"/> in the result). <c>From</c> is inclusive, <c>To</c> exclusive.
    /// </summary>
    public Task<IReadOnlyList<SeriesPoint>> GetTimelineAsync(TimelineQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        var where = new StringBuilder("1 = 1");
        void Filter(string column, string param, object? value, string op = "=")
        {
            if (value is null) return;
            where.Append(CultureInfo.InvariantCulture, $" AND {column} {op} {param}");
            cmd.Parameters.AddWithValue(param, value);
        }
        Filter("country", "$country", query.Country);
        Filter("region", "$region", query.Region);
        Filter("target_group", "$target_group", query.TargetGroup);
        Filter("label", "$label", query.Label);
        Filter("bucket_start", "$from", query.From is { } f ? ToUnixMs(f) : null, ">=");
        Filter("bucket_start", "$to", query.To is { } t ? ToUnixMs(t) : null, "<");
        cmd.CommandText = $"SELECT bucket_start, SUM(count) FROM aggregates WHERE {where} GROUP BY bucket_start ORDER BY bucket_start;";
        var points = new List<SeriesPoint>();
        const string any = StoreConventions.AnyValue;
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            points.Add(new SeriesPoint(FromUnixMs(r.GetInt64(0)), query.Country ?? any, query.Region ?? any,
                query.TargetGroup ?? any, query.Label ?? any, r.GetInt64(1)));
        }
        return Task.FromResult<IReadOnlyList<SeriesPoint>>(points);
    }

    public Task<StoredPost?> GetPostAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {PostColumns} FROM posts p LEFT JOIN decisions d ON d.post_id = p.id WHERE p.id = $id;";
        cmd.Parameters.AddWithValue("$id", id);
        using var r = cmd.ExecuteReader();
        return Task.FromResult(r.Read() ? ReadPost(r) : null);
    }

    /// <summary>
    /// Posts containing every word of <paramref name="query"/>, newest first. The words are searched as literal text
    /// (FTS5 operators and quotes in the input are not interpreted), so no input can make the query fail.
    /// </summary>
    public Task<IReadOnlyList<StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default)
    {
        limit = Math.Min(limit, StoreConventions.MaxQueryLimit);
        var terms = SearchQuery.Terms(query ?? "");
        if (limit <= 0 || terms.Count == 0) return Task.FromResult<IReadOnlyList<StoredPost>>([]);
        using var conn = OpenReader();
        if (FullTextSearch)
        {
            try
            {
                return Task.FromResult(SearchFts(conn, terms, limit));
            }
            catch (SqliteException)
            {
                // Quoting makes this unreachable for syntax; if the index itself fails, LIKE still answers.
            }
        }
        return Task.FromResult(SearchLike(conn, terms, limit));
    }

    private static IReadOnlyList<StoredPost> SearchFts(SqliteConnection conn, List<string> terms, int limit)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT {PostColumns} FROM posts_fts f JOIN posts p ON p.pk = f.rowid " +
            "LEFT JOIN decisions d ON d.post_id = p.id WHERE posts_fts MATCH $q ORDER BY p.created_at DESC, p.pk DESC LIMIT $limit;";
        cmd.Parameters.AddWithValue("$q", SearchQuery.ToFts(terms));
        cmd.Parameters.AddWithValue("$limit", limit);
        return ReadPosts(cmd);
    }

    /// <summary>
    /// Without FTS5: LIKE narrows the candidates (substring, ASCII-only case folding), then each candidate is kept only
    /// if every term is one of its words, so the fallback answers like the index does.
    /// </summary>
    private static IReadOnlyList<StoredPost> SearchLike(SqliteConnection conn, List<string> terms, int limit)
    {
        using var cmd = conn.CreateCommand();
        var where = new StringBuilder();
        for (var i = 0; i < terms.Count; i++)
        {
            // Only terms whose case LIKE can fold (ASCII) or that have no case narrow the scan; the word check decides.
            if (!IsLikeSafe(terms[i])) continue;
            where.Append(where.Length == 0 ? "" : " AND ").Append(CultureInfo.InvariantCulture, $"p.text LIKE $t{i} ESCAPE '\\'");
            cmd.Parameters.AddWithValue("$t" + i.ToString(CultureInfo.InvariantCulture), SearchQuery.ToLike(terms[i]));
        }
        cmd.CommandText = $"SELECT {PostColumns} FROM posts p LEFT JOIN decisions d ON d.post_id = p.id " +
            $"WHERE {(where.Length == 0 ? "1 = 1" : where)} ORDER BY p.created_at DESC, p.pk DESC;";
        var posts = new List<StoredPost>();
        using var r = cmd.ExecuteReader();
        while (posts.Count < limit && r.Read())
        {
            if (SearchQuery.ContainsAllWords(r.GetString(3), terms)) posts.Add(ReadPost(r));
        }
        return posts;
    }

    private static bool IsLikeSafe(string term)
    {
        foreach (var c in term)
        {
            if (c > 127 && char.ToUpperInvariant(c) != char.ToLowerInvariant(c)) return false;
        }
        return true;
    }

    private static List<StoredPost> ReadPosts(SqliteCommand cmd)
    {
        var posts = new List<StoredPost>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) posts.Add(ReadPost(r));
        return posts;
    }

    private static StoredPost ReadPost(SqliteDataReader r) => new(
        r.GetString(0), FromUnixMs(r.GetInt64(1)), r.GetString(2), r.GetString(3), Str(r, 4), Str(r, 5), Str(r, 6),
        Str(r, 7), StoreJson.ParseScores(Str(r, 8)), Str(r, 9), r.IsDBNull(10) ? 0f : (float)r.GetDouble(10),
        r.IsDBNull(11) ? 0f : (float)r.GetDouble(11), StoreJson.ParseList(Str(r, 12)), Str(r, 13));

    /// <summary>Dead letters, most recently stored first.</summary>
    public Task<IReadOnlyList<StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default)
    {
        limit = Math.Min(limit, StoreConventions.MaxQueryLimit);
        if (limit <= 0) return Task.FromResult<IReadOnlyList<StoredDeadLetter>>([]);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT id, source, source_offset, reason, bytes, received_at FROM dead_letters ORDER BY id DESC LIMIT $limit;";
        cmd.Parameters.AddWithValue("$limit", limit);
        var list = new List<StoredDeadLetter>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new StoredDeadLetter(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? -1 : r.GetInt64(2), r.GetString(3),
                (byte[])r.GetValue(4), FromUnixMs(r.GetInt64(5))));
        }
        return Task.FromResult<IReadOnlyList<StoredDeadLetter>>(list);
    }

    /// <summary>All feedback, oldest first (the order it was given in).</summary>
    public Task<IReadOnlyList<Feedback>> GetFeedbackAsync(CancellationToken ct = default)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT post_id, label, actor, note, at FROM feedback ORDER BY id;";
        var list = new List<Feedback>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(new Feedback(r.GetString(0), r.GetString(1), r.GetString(2), Str(r, 3), FromUnixMs(r.GetInt64(4))));
        return Task.FromResult<IReadOnlyList<Feedback>>(list);
    }

    /// <summary>Counts from one consistent snapshot (a batch is either wholly counted or not at all).</summary>
    public Task<StoreCounts> GetCountsAsync(CancellationToken ct = default)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        // One statement reads one snapshot, so the counts agree with each other.
        cmd.CommandText = """
            SELECT (SELECT count(*) FROM posts),
                   (SELECT count(*) FROM decisions WHERE flagged = 1),
                   (SELECT count(*) FROM alerts),
                   (SELECT count(*) FROM dead_letters),
                   (SELECT count(*) FROM feedback);
            """;
        using var r = cmd.ExecuteReader();
        r.Read();
        return Task.FromResult(new StoreCounts(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)));
    }

    private static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
