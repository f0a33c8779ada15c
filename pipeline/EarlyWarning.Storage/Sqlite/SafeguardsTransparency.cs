namespace EarlyWarning.Storage.Sqlite;

public sealed partial class SqliteSafeguardStore
{
    /// <summary>
    /// Reads what the transparency report states for [from, to) in one read snapshot (see <see cref="TransparencyData"/>
    /// for what falls in the period). Needs the pipeline schema (<see cref="SqliteStore"/> initialised on this file).
    /// </summary>
    public Task<TransparencyData> GetTransparencyDataAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        if (to <= from) throw new ArgumentException("the report period is empty: --to must be after --from", nameof(to));
        return WithLockAsync(() =>
        {
            if (!TableExists("posts") || !TableExists("alerts"))
                throw new InvalidOperationException($"'{Path}' holds no pipeline store (no posts/alerts tables).");
            using var tx = _conn.BeginTransaction(deferred: true);
            var f = from.ToUnixTimeMilliseconds();
            var t = to.ToUnixTimeMilliseconds();

            List<CountRow> Rows(string sql)
            {
                using var cmd = Cmd(sql, tx);
                cmd.Parameters.AddWithValue("$from", f);
                cmd.Parameters.AddWithValue("$to", t);
                using var r = cmd.ExecuteReader();
                var rows = new List<CountRow>();
                while (r.Read()) rows.Add(new CountRow(r.IsDBNull(0) ? "" : r.GetString(0), r.GetInt64(1)));
                return rows;
            }

            long One(string sql)
            {
                using var cmd = Cmd(sql, tx);
                cmd.Parameters.AddWithValue("$from", f);
                cmd.Parameters.AddWithValue("$to", t);
                return cmd.ExecuteScalar() is long v ? v : 0;
            }

            List<PrecisionRow> Precision(string groupExpr)
            {
                // The latest feedback per post is the analyst's current verdict.
                using var cmd = Cmd(
                    $"""
                    WITH latest AS (
                        SELECT post_id, label FROM feedback WHERE id IN (SELECT max(id) FROM feedback GROUP BY post_id))
                    SELECT {groupExpr} AS k, count(*),
                           coalesce(sum(d.flagged), 0),
                           coalesce(sum(CASE WHEN d.flagged = 1 AND l.label <> 'none' THEN 1 ELSE 0 END), 0)
                    FROM latest l JOIN posts p ON p.id = l.post_id JOIN decisions d ON d.post_id = p.id
                    WHERE p.created_at >= $from AND p.created_at < $to
                    GROUP BY k ORDER BY k;
                    """, tx);
                cmd.Parameters.AddWithValue("$from", f);
                cmd.Parameters.AddWithValue("$to", t);
                using var r = cmd.ExecuteReader();
                var rows = new List<PrecisionRow>();
                while (r.Read()) rows.Add(new PrecisionRow(r.IsDBNull(0) ? "" : r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)));
                return rows;
            }

            const string InRange = "window_start >= $from AND window_start < $to";
            var severity = Rows($"SELECT severity, count(*) FROM alerts WHERE {InRange} GROUP BY severity_level ORDER BY severity_level;");
            var overall = Precision("'all'");
            var data = new TransparencyData
            {
                From = from,
                To = to,
                Posts = One("SELECT count(*) FROM posts WHERE created_at >= $from AND created_at < $to;"),
                FlaggedPosts = One("SELECT count(*) FROM posts p JOIN decisions d ON d.post_id = p.id " +
                                   "WHERE p.created_at >= $from AND p.created_at < $to AND d.flagged = 1;"),
                Alerts = One($"SELECT count(*) FROM alerts WHERE {InRange};"),
                AlertsByKind = Rows($"SELECT kind, count(*) FROM alerts WHERE {InRange} GROUP BY kind ORDER BY count(*) DESC, kind;"),
                AlertsByRegion = Rows($"SELECT coalesce(country, '*') || '/' || coalesce(region, '*') AS k, count(*) FROM alerts " +
                                      $"WHERE {InRange} GROUP BY k ORDER BY count(*) DESC, k;"),
                AlertsBySeverity = severity,
                AlertsByStatus = Rows($"SELECT status, count(*) FROM alerts WHERE {InRange} GROUP BY status ORDER BY status;"),
                Actions = Rows($"SELECT a.action, count(*) FROM alert_audit a JOIN alerts al ON al.id = a.alert_id " +
                               $"WHERE al.{InRange} GROUP BY a.action ORDER BY count(*) DESC, a.action;"),
                FeedbackEntries = One("SELECT count(*) FROM feedback fb JOIN posts p ON p.id = fb.post_id " +
                                      "WHERE p.created_at >= $from AND p.created_at < $to;"),
                Overall = overall.Count == 1 ? overall[0] with { Key = "all" } : new PrecisionRow("all", 0, 0, 0),
                PrecisionByLanguage = Precision("coalesce(p.lang, '')"),
                PrecisionByTarget = Precision("coalesce(d.target, '')"),
                Appeals = Rows("SELECT a.status, count(*) FROM appeals a JOIN posts p ON p.id = a.post_id " +
                               "WHERE p.created_at >= $from AND p.created_at < $to GROUP BY a.status ORDER BY a.status;"),
                DecisionModels = Rows("SELECT coalesce(d.model, '') AS k, count(*) FROM decisions d JOIN posts p ON p.id = d.post_id " +
                                      "WHERE p.created_at >= $from AND p.created_at < $to GROUP BY k ORDER BY count(*) DESC, k;"),
                AlertModels = Rows($"SELECT coalesce(model, '') AS k, count(*) FROM alerts WHERE {InRange} GROUP BY k ORDER BY count(*) DESC, k;"),
            };
            tx.Commit();
            return data;
        }, ct);
    }
}
