using System.Globalization;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.App.Tests.Safeguards;

[Collection(SimulatorRunCollection.Name)]
public sealed class TransparencyReportTests(SimulatorRunFixture run)
{
    private static readonly DateTimeOffset From = new(2026, 11, 7, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly SemaphoreSlim Once = new(1, 1);
    private static bool _seeded;

    private List<(string[] Row, long N)> Sql(string sql, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        using var conn = new SqliteConnection($"Data Source={run.Db};Mode=ReadOnly;Pooling=false");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$from", (from ?? From).ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$to", (to ?? To).ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        var rows = new List<(string[], long)>();
        while (r.Read())
        {
            var cols = new string[r.FieldCount - 1];
            for (var i = 0; i < cols.Length; i++) cols[i] = r.IsDBNull(i) ? "" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture)!;
            rows.Add((cols, r.GetInt64(r.FieldCount - 1)));
        }
        return rows;
    }

    /// <summary>Adds analyst feedback, status changes and appeals once (the tests of this class share the store).</summary>
    private async Task SeedAsync()
    {
        await Once.WaitAsync();
        try
        {
            if (_seeded) return;
            Assert.True(run.ExitCode == 0, run.Log);
            await using var store = new SqliteStore(run.Db);
            await store.InitializeAsync();
            await using var sg = new SqliteSafeguardStore(run.Db);
            var flagged = Sql("SELECT p.id, 1 FROM posts p JOIN decisions d ON d.post_id = p.id WHERE d.flagged = 1 ORDER BY p.pk LIMIT 300")
                .Select(r => r.Row[0]).ToList();
            var plain = Sql("SELECT p.id, 1 FROM posts p JOIN decisions d ON d.post_id = p.id WHERE d.flagged = 0 ORDER BY p.pk LIMIT 40")
                .Select(r => r.Row[0]).ToList();
            Assert.True(flagged.Count == 300 && plain.Count == 40, "the run stored too few posts");
            var at = DateTimeOffset.UtcNow;
            for (var i = 0; i < flagged.Count; i += 2)
            {
                // Every 3rd reviewed flag is wrong; some posts get a second opinion (the latest counts).
                var label = i % 3 == 0 ? Labels.None : Labels.Hate;
                await store.AddFeedbackAsync(new Feedback(flagged[i], label, "ana", null, at));
                if (i % 10 == 0) await store.AddFeedbackAsync(new Feedback(flagged[i], Labels.Offensive, "bob", "second look", at.AddMinutes(1)));
            }
            foreach (var id in plain) await store.AddFeedbackAsync(new Feedback(id, Labels.None, "ana", null, at));
            var alerts = await store.GetAlertsAsync(new AlertQuery(Limit: 10));
            Assert.NotEmpty(alerts);
            foreach (var a in alerts.Take(6)) await store.UpdateAlertStatusAsync(a.Id, AlertStatus.Acknowledged, "ana", null);
            foreach (var a in alerts.Take(2)) await store.UpdateAlertStatusAsync(a.Id, AlertStatus.Escalated, "bob", "partners told");
            var appeals = new AppealsService(store, sg, new SqliteAuditLog(sg));
            var ap1 = await appeals.FileAsync(flagged[1], "counter-speech", "partner", "ana", DashboardRole.Analyst);
            await appeals.ReviewAsync(ap1.Id, AppealOutcome.Reverse, "bob", DashboardRole.Analyst);
            await appeals.FileAsync(flagged[3], "quote", "author", "ana", DashboardRole.Analyst);
            _seeded = true;
        }
        finally { Once.Release(); }
    }

    private JsonElement Report(DateTimeOffset from, DateTimeOffset to)
    {
        var sw = new StringWriter();
        Assert.Equal(0, TransparencyReportCommand.Run(run.Db, from, to, "json", sw));
        return JsonDocument.Parse(sw.ToString()).RootElement.Clone();
    }

    private static Dictionary<string, long> Map(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    private static Dictionary<string, long> Map(List<(string[] Row, long N)> rows) => rows.ToDictionary(r => string.Join("/", r.Row), r => r.N);

    [Theory]
    [InlineData("2026-11-07T00:00:00Z", "2026-11-10T00:00:00Z")]
    [InlineData("2026-11-08T00:00:00Z", "2026-11-09T00:00:00Z")]
    public async Task Report_totals_match_direct_sql(string fromText, string toText)
    {
        await SeedAsync();
        var from = DateTimeOffset.Parse(fromText, CultureInfo.InvariantCulture);
        var to = DateTimeOffset.Parse(toText, CultureInfo.InvariantCulture);
        var r = Report(from, to);
        const string Alerts = "FROM alerts WHERE window_start >= $from AND window_start < $to";

        var alerts = Sql("SELECT 0, count(*) " + Alerts, from, to)[0].N;
        Assert.True(alerts > 0, "the simulator run raised no alerts in the period");
        Assert.Equal(alerts, r.GetProperty("alerts").GetInt64());
        Assert.Equal(Map(Sql("SELECT kind, count(*) " + Alerts + " GROUP BY kind", from, to)), Map(r.GetProperty("alerts_by_kind")));
        Assert.Equal(Map(Sql("SELECT severity, count(*) " + Alerts + " GROUP BY severity", from, to)), Map(r.GetProperty("alerts_by_severity")));
        Assert.Equal(Map(Sql("SELECT coalesce(country,'*'), coalesce(region,'*'), count(*) " + Alerts + " GROUP BY 1, 2", from, to)),
            Map(r.GetProperty("alerts_by_region")));
        Assert.Equal(alerts, Map(r.GetProperty("alerts_by_kind")).Values.Sum());
        Assert.Equal(alerts, Map(r.GetProperty("alerts_by_severity")).Values.Sum());
        Assert.Equal(Map(Sql("SELECT action, count(*) FROM alert_audit WHERE alert_id IN (SELECT id " + Alerts + ") GROUP BY action", from, to)),
            Map(r.GetProperty("actions")));
        Assert.Equal(Sql("SELECT 0, count(*) FROM posts WHERE created_at >= $from AND created_at < $to", from, to)[0].N, r.GetProperty("posts").GetInt64());
        Assert.Equal(Sql("SELECT 0, count(*) FROM posts p JOIN decisions d ON d.post_id = p.id WHERE d.flagged = 1 AND p.created_at >= $from AND p.created_at < $to", from, to)[0].N,
            r.GetProperty("flagged_posts").GetInt64());
        Assert.Equal(Map(Sql("SELECT coalesce(d.model,''), count(*) FROM decisions d JOIN posts p ON p.id = d.post_id WHERE p.created_at >= $from AND p.created_at < $to GROUP BY 1", from, to)),
            Map(r.GetProperty("decision_models")));
        Assert.NotEmpty(Map(r.GetProperty("decision_models")));

        // Precision, recomputed here from the raw rows: latest feedback per post, flagged decisions, label not none.
        var rows = Sql("SELECT f.post_id, f.label, coalesce(p.lang,''), coalesce(d.target,''), d.flagged, f.id FROM feedback f " +
                       "JOIN posts p ON p.id = f.post_id JOIN decisions d ON d.post_id = p.id WHERE p.created_at >= $from AND p.created_at < $to", from, to);
        var latest = rows.GroupBy(x => x.Row[0]).Select(g => g.OrderBy(x => x.N).Last().Row).ToList();
        Assert.Equal(rows.Count, r.GetProperty("feedback_entries").GetInt64());
        void CheckGroups(string property, int column)
        {
            var expected = latest.GroupBy(x => x[column].Length == 0 ? "(none)" : x[column]).ToDictionary(g => g.Key, g => (
                Posts: (long)g.Count(), Reviewed: (long)g.Count(x => x[4] == "1"), Upheld: (long)g.Count(x => x[4] == "1" && x[1] != Labels.None)));
            var actual = r.GetProperty(property).EnumerateObject().ToDictionary(p => p.Name, p => (
                Posts: p.Value.GetProperty("feedback_posts").GetInt64(), Reviewed: p.Value.GetProperty("reviewed_flagged").GetInt64(),
                Upheld: p.Value.GetProperty("upheld").GetInt64()));
            Assert.Equal(expected.OrderBy(k => k.Key, StringComparer.Ordinal), actual.OrderBy(k => k.Key, StringComparer.Ordinal));
        }
        CheckGroups("precision_by_language", 2);
        CheckGroups("precision_by_target", 3);
        var overall = r.GetProperty("precision");
        var reviewed = latest.Count(x => x[4] == "1");
        var upheld = latest.Count(x => x[4] == "1" && x[1] != Labels.None);
        Assert.Equal(reviewed, overall.GetProperty("reviewed_flagged").GetInt64());
        Assert.Equal(upheld, overall.GetProperty("upheld").GetInt64());
        if (reviewed > 0) Assert.Equal(Math.Round((double)upheld / reviewed, 4), overall.GetProperty("precision").GetDouble(), 6);
    }

    [Fact]
    public async Task Full_period_report_reflects_the_seeded_review_work()
    {
        await SeedAsync();
        var r = Report(From, To);
        var overall = r.GetProperty("precision");
        // 150 flagged posts reviewed; the reversed appeal adds feedback `none` on one more (flagged[1]).
        Assert.Equal(151, overall.GetProperty("reviewed_flagged").GetInt64());
        Assert.InRange(overall.GetProperty("precision").GetDouble(), 0.5, 0.9);
        var actions = Map(r.GetProperty("actions"));
        Assert.True(actions.GetValueOrDefault(AlertStatus.Escalated) >= 2, string.Join(", ", actions));
        Assert.True(actions.GetValueOrDefault(AlertStatus.Acknowledged) >= 6, string.Join(", ", actions));
        var appeals = Map(r.GetProperty("appeals"));
        Assert.Equal(1, appeals[AppealStatus.Reversed]);
        Assert.Equal(1, appeals[AppealStatus.Open]);
    }

    [Fact]
    public async Task Markdown_report_and_the_command_line_form()
    {
        await SeedAsync();
        var md = new StringWriter();
        var options = new Dictionary<string, string>
        {
            ["from"] = "2026-11-07", ["to"] = "2026-11-10", ["store"] = "sqlite:" + run.Db,
        };
        Assert.Equal(0, TransparencyReportCommand.Run(k => options.GetValueOrDefault(k), md));
        var text = md.ToString();
        Assert.StartsWith("# Transparency report 2026-11-07T00:00:00Z to 2026-11-10T00:00:00Z", text, StringComparison.Ordinal);
        foreach (var section in new[] { "## Alerts by kind", "## Alerts by region", "## Alerts by severity", "## Actions taken on alerts",
                     "## Analyst feedback and precision by language", "## Analyst feedback and precision by target group", "## Models behind the decisions" })
            Assert.Contains(section, text, StringComparison.Ordinal);
        Assert.Throws<UsageException>(() => TransparencyReportCommand.Run(k => k == "from" ? "2026-11-07" : null, md));
        Assert.Throws<UsageException>(() => TransparencyReportCommand.Run(k => options.GetValueOrDefault(k) ?? (k == "format" ? "pdf" : null), md));
        Assert.Throws<UsageException>(() => TransparencyReportCommand.Run(k => k == "to" ? "2026-11-01" : options.GetValueOrDefault(k), md));
        Assert.Throws<UsageException>(() => TransparencyReportCommand.Run(k => k == "from" ? "yesterday-ish" : options.GetValueOrDefault(k), md));
        Assert.Throws<IOException>(() => TransparencyReportCommand.Run(run.Db + ".missing", From, To, "md", md));
    }
}
