using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.App.Http;

/// <summary>
/// <c>POST /api/reports</c> (a partner reports a post or an incident; 202 with its id) and <c>GET /api/reports/{id}</c>
/// (what became of it: <c>queued</c>, <c>stored</c> with the decision, <c>cited_by_alerts</c>, or
/// <c>processed_not_kept</c> when only flagged posts are stored). The dashboard's request guard has already
/// authenticated the caller and refused writes from viewers and non-JSON bodies. A report is visible to its reporter
/// and to admins.
/// </summary>
public static partial class ReportsEndpoints
{
    public const int MaxTextLength = 5000;
    public const int MaxRegionLength = 100;
    public const int MaxUrlLength = 2048;
    public const int MaxOriginalIdLength = 200;
    public const int MaxNoteLength = 1000;

    /// <summary>How far after the pipeline's event time a reporter's <c>created_at</c> may lie (a future time would close buckets early).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(10);

    /// <summary>How far from a report's time the alerts citing it are looked for.</summary>
    private static readonly TimeSpan CitationWindow = TimeSpan.FromDays(2);

    // The same context items DashboardApi's guard sets (it keeps the names private).
    private const string ActorKey = "ew.actor";
    private const string RoleKey = "ew.role";

    private static readonly string[] Fields = ["text", "lang", "geo", "created_at", "original_url", "original_id", "note"];

    [GeneratedRegex("^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", RegexOptions.CultureInvariant)]
    private static partial Regex LangPattern();

    [GeneratedRegex("^[A-Za-z]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex CountryPattern();

    /// <summary>Maps the two endpoints; <paramref name="intake"/> null answers POST with 503 (reports not enabled).</summary>
    public static void MapReports(this IEndpointRouteBuilder app, ReportIntake? intake, IPipelineStore store, DashboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        app.MapPost("/api/reports", (Delegate)((HttpContext ctx) => SubmitAsync(ctx, intake, options)));
        app.MapGet("/api/reports/{id}", (HttpContext ctx, string id) => StatusAsync(ctx, id, intake, store, options));
    }

    private static string Actor(HttpContext ctx) => ctx.Items[ActorKey] as string ?? "local";
    private static DashboardRole Role(HttpContext ctx) => ctx.Items[RoleKey] is DashboardRole r ? r : DashboardRole.Viewer;
    private static IResult Error(int status, string message) => Results.Json(new { error = message }, DashboardApi.Json, statusCode: status);

    private static async Task<IResult> SubmitAsync(HttpContext ctx, ReportIntake? intake, DashboardOptions options)
    {
        if (Role(ctx) < DashboardRole.Analyst) return Error(403, "this API key may not report");
        if (intake is null) return Error(503, "reports are not enabled on this server");
        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(ctx.Request.Body, new JsonDocumentOptions { MaxDepth = 8 }, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return Error(400, "the body is not valid JSON");
        }
        using (doc)
        {
            var now = intake.EventTime() ?? options.Time.GetUtcNow();
            var request = Parse(doc.RootElement, now, out var error);
            if (request is null) return Error(400, error!);
            var record = intake.TrySubmit(request, Actor(ctx), out error);
            if (record is null) return Error(503, error!);
            options.Audit?.Invoke(new DashboardAuditEvent(options.Time.GetUtcNow(), Actor(ctx), "report_submit", record.PostId));
            var n = record.Number.ToString(CultureInfo.InvariantCulture);
            return Results.Json(new { report_id = record.Number, post_id = record.PostId, status = "queued", status_url = "/api/reports/" + n },
                DashboardApi.Json, statusCode: 202);
        }
    }

    /// <summary>
    /// Checks a report body: <c>text</c> required (1..5000 characters, not blank), <c>lang</c> a BCP-47-like code,
    /// <c>geo</c> {country: ISO alpha-2, region}, <c>created_at</c> RFC 3339 not more than 10 minutes after
    /// <paramref name="eventNow"/>, <c>original_url</c> absolute http(s), <c>original_id</c>, <c>note</c>; no other fields.
    /// </summary>
    public static ReportRequest? Parse(JsonElement root, DateTimeOffset eventNow, out string? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object) { error = "the body must be a JSON object"; return null; }
        foreach (var p in root.EnumerateObject())
            if (Array.IndexOf(Fields, p.Name) < 0) { error = $"unknown field '{Truncate(p.Name)}' (allowed: {string.Join(", ", Fields)})"; return null; }

        var text = String(root, "text", MaxTextLength, allowNewlines: true, ref error);
        if (error is null && string.IsNullOrWhiteSpace(text)) error = "'text' is required";
        var lang = String(root, "lang", 16, allowNewlines: false, ref error);
        if (error is null && lang is not null && !LangPattern().IsMatch(lang)) error = "'lang' must be a language code such as 'my', 'sw' or 'en'";

        string? country = null, region = null;
        if (error is null && root.TryGetProperty("geo", out var geo) && geo.ValueKind != JsonValueKind.Null)
        {
            if (geo.ValueKind != JsonValueKind.Object) error = "'geo' must be an object {country, region}";
            else
            {
                foreach (var p in geo.EnumerateObject())
                    if (p.Name is not ("country" or "region")) { error = $"unknown field 'geo.{Truncate(p.Name)}' (allowed: country, region)"; break; }
                country = error is null ? String(geo, "country", 2, allowNewlines: false, ref error, "geo.country") : null;
                if (error is null && country is not null)
                {
                    if (!CountryPattern().IsMatch(country)) error = "'geo.country' must be an ISO 3166 alpha-2 code such as 'MM'";
                    else country = country.ToUpperInvariant();
                }
                region = String(geo, "region", MaxRegionLength, allowNewlines: false, ref error, "geo.region");
                if (error is null && region is not null && region.Trim().Length == 0) error = "'geo.region' is blank";
            }
        }

        DateTimeOffset? createdAt = null;
        var createdText = String(root, "created_at", 40, allowNewlines: false, ref error);
        if (error is null && createdText is not null)
        {
            if (createdText.Length < 20 || !DateTimeOffset.TryParse(createdText, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                error = "'created_at' must be an RFC 3339 time such as 2026-11-08T06:15:03Z";
            else if (t > eventNow + MaxFutureSkew)
                error = $"'created_at' is in the future (the pipeline's time is {eventNow.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ})";
            else createdAt = t;
        }

        var url = String(root, "original_url", MaxUrlLength, allowNewlines: false, ref error);
        if (error is null && url is not null
            && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)))
            error = "'original_url' must be an absolute http or https URL";
        var originalId = String(root, "original_id", MaxOriginalIdLength, allowNewlines: false, ref error);
        var note = String(root, "note", MaxNoteLength, allowNewlines: true, ref error);
        if (error is not null) return null;
        return new ReportRequest(text!, lang, country, region?.Trim(), createdAt, url, originalId, note);
    }

    private static string? String(JsonElement obj, string name, int maxLength, bool allowNewlines, ref string? error, string? label = null)
    {
        if (error is not null || !obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        label ??= name;
        if (v.ValueKind != JsonValueKind.String) { error = $"'{label}' must be a string"; return null; }
        var s = v.GetString()!;
        if (s.Length > maxLength) { error = $"'{label}' is longer than {maxLength} characters"; return null; }
        foreach (var c in s)
        {
            if (char.IsControl(c) && !(allowNewlines && c is '\n' or '\r' or '\t'))
            {
                error = $"'{label}' holds a control character";
                return null;
            }
        }
        return s;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static async Task<IResult> StatusAsync(HttpContext ctx, string id, ReportIntake? intake, IPipelineStore store, DashboardOptions options)
    {
        // Accept both the number and the post id.
        var digits = id.StartsWith(ReportIntake.PostIdPrefix, StringComparison.Ordinal) ? id[ReportIntake.PostIdPrefix.Length..] : id;
        if (digits.Length is 0 or > 18 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
            return Error(400, "a report id is a positive number (or report:N)");
        var postId = ReportIntake.PostIdOf(number);
        var actor = Actor(ctx);
        var admin = Role(ctx) >= DashboardRole.Admin;
        var known = intake?.Find(number);
        if (known is not null && !admin && known.ReportedBy != actor) return Error(404, "no such report");

        var post = await store.GetPostAsync(postId, ctx.RequestAborted).ConfigureAwait(false);
        if (post is not null)
        {
            // After a restart this process may not remember the report: the stored author tells whose it is.
            if (known is null && !admin && intake is not null && post.Author != intake.StoredAccount(ReportIntake.AccountOf(actor)))
                return Error(404, "no such report");
            if (known is null && !admin && intake is null) return Error(404, "no such report");
            var cited = await CitingAlertsAsync(store, postId, post.CreatedAt, ctx.RequestAborted).ConfigureAwait(false);
            options.Audit?.Invoke(new DashboardAuditEvent(options.Time.GetUtcNow(), actor, "report_view", postId));
            return Results.Json(new
            {
                report_id = number,
                post_id = postId,
                status = cited.Count > 0 ? "cited_by_alerts" : "stored",
                reported_by = known?.ReportedBy,
                received_at = known?.ReceivedAt,
                created_at = post.CreatedAt,
                decision = new
                {
                    label = post.Label,
                    scores = post.Scores,
                    flags = new { incitement = post.Incitement, dehumanisation = post.Dehumanisation },
                    target = post.Target,
                    explanation = post.Explanation,
                    model = post.Model,
                },
                alerts = cited,
            }, DashboardApi.Json);
        }

        if (known is null) return Error(404, "no such report");
        var checkpoint = await store.GetCheckpointAsync(ReportIntake.SourceName, ctx.RequestAborted).ConfigureAwait(false);
        var processed = checkpoint is { } c && c >= number;
        return Results.Json(new
        {
            report_id = number,
            post_id = postId,
            // Processed but not in the store: the run keeps only flagged posts (--store-posts flagged) and this was not flagged.
            status = processed ? "processed_not_kept" : "queued",
            reported_by = known.ReportedBy,
            received_at = known.ReceivedAt,
            created_at = known.CreatedAt,
        }, DashboardApi.Json);
    }

    private static async Task<List<string>> CitingAlertsAsync(IPipelineStore store, string postId, DateTimeOffset at, CancellationToken ct)
    {
        var alerts = await store.GetAlertsAsync(new AlertQuery(From: at - CitationWindow, To: at + CitationWindow, Limit: 5000), ct).ConfigureAwait(false);
        return [.. alerts.Where(a => a.Evidence.PostIds.Contains(postId, StringComparer.Ordinal)).Select(a => a.Id).Order(StringComparer.Ordinal)];
    }
}
