using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>
/// The transparency report (DESIGN.md safeguards): alerts by kind, region and severity; actions taken on them; analyst
/// feedback and measured precision by language and target group; appeals; model versions in use. Markdown or JSON.
/// </summary>
public static class TransparencyReport
{
    public static Task<TransparencyData> BuildAsync(SqliteSafeguardStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.GetTransparencyDataAsync(from, to, ct);
    }

    public static void WriteMarkdown(TransparencyData d, TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(w);
        var ci = CultureInfo.InvariantCulture;
        w.WriteLine($"# Transparency report {Time(d.From)} to {Time(d.To)}");
        w.WriteLine();
        w.WriteLine("Alerts are those whose window starts in the period; posts and decisions those created in it (event time);");
        w.WriteLine("actions, feedback and appeals are those taken on these alerts and posts. Precision is the share of reviewed");
        w.WriteLine("flagged decisions that analysts upheld (their latest label is not `none`).");
        w.WriteLine();
        w.WriteLine(string.Create(ci, $"- posts: {d.Posts}, flagged: {d.FlaggedPosts}"));
        w.WriteLine(string.Create(ci, $"- alerts: {d.Alerts}"));
        w.WriteLine(string.Create(ci, $"- analyst feedback entries: {d.FeedbackEntries}"));
        w.WriteLine(string.Create(ci, $"- precision (all): {Pct(d.Overall.Precision)} of {d.Overall.ReviewedFlagged} reviewed flagged decisions"));
        Table(w, "Alerts by kind", "kind", d.AlertsByKind);
        Table(w, "Alerts by region", "country/region", d.AlertsByRegion);
        Table(w, "Alerts by severity", "severity", d.AlertsBySeverity);
        Table(w, "Alerts by current status", "status", d.AlertsByStatus);
        Table(w, "Actions taken on alerts", "action", d.Actions);
        Precision(w, "Analyst feedback and precision by language", "language", d.PrecisionByLanguage);
        Precision(w, "Analyst feedback and precision by target group", "target group", d.PrecisionByTarget);
        Table(w, "Appeals", "status", d.Appeals);
        Table(w, "Models behind the decisions", "model", d.DecisionModels);
        Table(w, "Models behind the alerts", "model", d.AlertModels);
    }

    public static void WriteJson(TransparencyData d, TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(w);
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("from", Time(d.From));
            j.WriteString("to", Time(d.To));
            j.WriteNumber("posts", d.Posts);
            j.WriteNumber("flagged_posts", d.FlaggedPosts);
            j.WriteNumber("alerts", d.Alerts);
            Counts(j, "alerts_by_kind", d.AlertsByKind);
            Counts(j, "alerts_by_region", d.AlertsByRegion);
            Counts(j, "alerts_by_severity", d.AlertsBySeverity);
            Counts(j, "alerts_by_status", d.AlertsByStatus);
            Counts(j, "actions", d.Actions);
            j.WriteNumber("feedback_entries", d.FeedbackEntries);
            j.WritePropertyName("precision");
            PrecisionObject(j, d.Overall);
            PrecisionMap(j, "precision_by_language", d.PrecisionByLanguage);
            PrecisionMap(j, "precision_by_target", d.PrecisionByTarget);
            Counts(j, "appeals", d.Appeals);
            Counts(j, "decision_models", d.DecisionModels);
            Counts(j, "alert_models", d.AlertModels);
            j.WriteEndObject();
        }
        w.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void Counts(Utf8JsonWriter j, string name, IReadOnlyList<CountRow> rows)
    {
        j.WriteStartObject(name);
        foreach (var r in rows) j.WriteNumber(r.Key, r.Count);
        j.WriteEndObject();
    }

    private static void PrecisionMap(Utf8JsonWriter j, string name, IReadOnlyList<PrecisionRow> rows)
    {
        j.WriteStartObject(name);
        foreach (var r in rows)
        {
            j.WritePropertyName(r.Key.Length == 0 ? "(none)" : r.Key);
            PrecisionObject(j, r);
        }
        j.WriteEndObject();
    }

    private static void PrecisionObject(Utf8JsonWriter j, PrecisionRow r)
    {
        j.WriteStartObject();
        j.WriteNumber("feedback_posts", r.FeedbackPosts);
        j.WriteNumber("reviewed_flagged", r.ReviewedFlagged);
        j.WriteNumber("upheld", r.Upheld);
        if (r.Precision is { } p) j.WriteNumber("precision", Math.Round(p, 4)); else j.WriteNull("precision");
        j.WriteEndObject();
    }

    private static void Table(TextWriter w, string title, string key, IReadOnlyList<CountRow> rows)
    {
        w.WriteLine();
        w.WriteLine("## " + title);
        w.WriteLine();
        if (rows.Count == 0) { w.WriteLine("none"); return; }
        w.WriteLine($"| {key} | count |");
        w.WriteLine("|---|---:|");
        foreach (var r in rows) w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Cell(r.Key)} | {r.Count} |"));
    }

    private static void Precision(TextWriter w, string title, string key, IReadOnlyList<PrecisionRow> rows)
    {
        w.WriteLine();
        w.WriteLine("## " + title);
        w.WriteLine();
        if (rows.Count == 0) { w.WriteLine("no analyst feedback on posts of this period"); return; }
        w.WriteLine($"| {key} | posts with feedback | reviewed flagged | upheld | precision |");
        w.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var r in rows)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Cell(r.Key)} | {r.FeedbackPosts} | {r.ReviewedFlagged} | {r.Upheld} | {Pct(r.Precision)} |"));
    }

    private static string Cell(string s) => s.Length == 0 ? "(none)" : s.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Pct(double? p) => p is { } v ? (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>transparency-report --from T --to T [--store sqlite:PATH] [--format md|json]</c>. The lead wires it in Cli.cs as
/// <c>"transparency-report" =&gt; TransparencyReportCommand.Run(a.Optional, @out)</c>.
/// </summary>
public static class TransparencyReportCommand
{
    /// <summary>Writes the report for the store file at <paramref name="storePath"/>; 0 on success, 1 when the store is missing.</summary>
    public static int Run(string storePath, DateTimeOffset from, DateTimeOffset to, string format, TextWriter @out)
    {
        ArgumentNullException.ThrowIfNull(@out);
        if (format is not ("md" or "json")) throw new UsageException($"--format takes md or json, not '{format}'");
        if (to <= from) throw new UsageException("--to must be after --from");
        if (!File.Exists(storePath)) throw new IOException($"no store at '{storePath}'");
        using var store = new SqliteSafeguardStore(storePath);
        var data = TransparencyReport.BuildAsync(store, from, to).GetAwaiter().GetResult();
        if (format == "json") TransparencyReport.WriteJson(data, @out);
        else TransparencyReport.WriteMarkdown(data, @out);
        return 0;
    }

    /// <summary>
    /// The verb with its options read through <paramref name="option"/> (e.g. Cli's <c>Args.Optional</c>): <c>--from</c> and
    /// <c>--to</c> (RFC 3339 or yyyy-MM-dd, UTC), <c>--store sqlite:PATH</c> (default <c>./data/earlywarning.db</c>),
    /// <c>--format md|json</c> (default md).
    /// </summary>
    public static int Run(Func<string, string?> option, TextWriter @out)
    {
        ArgumentNullException.ThrowIfNull(option);
        var from = ParseTime(option("from") ?? throw new UsageException("--from is required"), "from");
        var to = ParseTime(option("to") ?? throw new UsageException("--to is required"), "to");
        var spec = option("store") ?? "sqlite:" + Path.Combine("data", "earlywarning.db");
        if (!spec.StartsWith("sqlite:", StringComparison.Ordinal)) throw new UsageException($"transparency-report reads a sqlite:PATH store, not '{spec}'");
        return Run(Path.GetFullPath(spec[7..]), from, to, option("format") ?? "md", @out);
    }

    public static DateTimeOffset ParseTime(string s, string name)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        throw new UsageException($"--{name} takes a UTC time (2026-11-07 or 2026-11-07T06:00:00Z), not '{s}'");
    }
}
