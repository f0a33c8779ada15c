using System.Text.Json;
using System.Text.Json.Serialization;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Http;

/// <summary>The JSON API under <c>/api</c>: request checks, authentication and the endpoint handlers.</summary>
internal sealed class DashboardApi(IPipelineStore store, IDashboardLive live, DashboardOptions options)
{
    public const long MaxBodyBytes = 16 * 1024;
    public const int MaxNoteLength = 1000;
    public const int MaxTimelinePoints = 60_000;
    public const int MaxTimelineGroups = 40;
    public const int BucketSeconds = 300;
    /// <summary>Largest number of a dead letter's original bytes <c>/api/deadletters</c> returns (the rest is cut, marked <c>truncated</c>).</summary>
    public const int MaxDeadLetterBytesShown = 64 * 1024;
    /// <summary>What a timeline point holds in a dimension the query summed over (the stores' convention).</summary>
    public const string AnyValue = "*";
    public static readonly TimeSpan DefaultTimelineSpan = TimeSpan.FromHours(48);
    private const string ActorKey = "ew.actor";
    private const string RoleKey = "ew.role";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private static readonly string[] StatusChanges = [AlertStatus.Acknowledged, AlertStatus.Escalated, AlertStatus.Dismissed];
    private static readonly string[] TimelineLabels = [.. Labels.All];

    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Map(WebApplication app)
    {
        _log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EarlyWarning.Dashboard");
        var api = app.MapGroup("/api");
        api.MapGet("/health", Health);
        api.MapGet("/stats", Handler(Stats));
        api.MapGet("/alerts", Handler(ListAlerts));
        api.MapGet("/alerts/{id}", GetAlert);
        api.MapPost("/alerts/{id}/status", SetStatus);
        api.MapGet("/timeline", Handler(Timeline));
        api.MapGet("/posts/search", Handler(Search));
        api.MapGet("/posts/{id}", GetPost);
        api.MapGet("/deadletters", Handler(DeadLetters));
        api.MapPost("/feedback", Handler(AddFeedback));
        api.MapGet("/network/amplifiers", Amplifiers);
        api.MapGet("/network/clusters", Clusters);
        api.MapGet("/network/ego/{account}", Ego);
        api.MapGet("/appeals", Handler(ListAppeals));
        api.MapPost("/appeals", Handler(FileAppeal));
        api.MapPost("/appeals/{id}/review", ReviewAppeal);
        api.MapPost("/admin/reidentify", Handler(Reidentify));
        api.MapGet("/admin/keys", Handler(KeyVersions));
        api.MapPost("/admin/keys/rotate", Handler(RotateKey));
        api.MapGet("/admin/audit", Handler(AuditExport));
        api.Map("/{**rest}", () => Error(404, "no such API endpoint"));
    }

    /// <summary>Makes a handler that takes only the context a route handler (its result is written), not a RequestDelegate.</summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> f) => f;

    // ---- request guard -------------------------------------------------------------------------------------

    private static bool IsAnalystRead(PathString path) =>
        path.StartsWithSegments("/api/posts", StringComparison.Ordinal)
        || path.StartsWithSegments("/api/network", StringComparison.Ordinal)
        || path.StartsWithSegments("/api/deadletters", StringComparison.Ordinal)
        || path.StartsWithSegments("/api/appeals", StringComparison.Ordinal);

    /// <summary>Admin endpoints check the role in their handlers, so every refused attempt is audited.</summary>
    private static bool IsAdminPath(PathString path) => path.StartsWithSegments("/api/admin", StringComparison.Ordinal);

    /// <summary>Security headers, host check, authentication, JSON-only writes, and no 500 page for surprises.</summary>
    public async Task GuardAsync(HttpContext ctx, RequestDelegate next)
    {
        var h = ctx.Response.Headers;
        h.XContentTypeOptions = "nosniff";
        h["Referrer-Policy"] = "no-referrer";
        h["X-Frame-Options"] = "DENY";
        h.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        var isApi = ctx.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal);
        if (isApi) h.CacheControl = "no-store";

        var keys = options.ApiKeys is { Count: > 0 } k ? k : null;
        if (keys is null)
        {
            // Local default: refuse other Host names so a web page cannot reach this API by DNS rebinding.
            var host = ctx.Request.Host.Host;
            if (!IsLocalHostName(host) && !string.Equals(host, options.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
            {
                await WriteErrorAsync(ctx, 400, "unexpected Host header").ConfigureAwait(false);
                return;
            }
            ctx.Items[ActorKey] = "local";
            ctx.Items[RoleKey] = DashboardRole.Admin;
        }
        else if (isApi || ctx.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal))
        {
            var key = ReadKey(ctx.Request);
            var match = key is null ? null : keys.FirstOrDefault(x => FixedTimeEquals(x.Key, key));
            if (match is null)
            {
                h.WWWAuthenticate = "Bearer";
                await WriteErrorAsync(ctx, 401, "an API key is required (header X-Api-Key or Authorization: Bearer)").ConfigureAwait(false);
                return;
            }
            ctx.Items[ActorKey] = match.Name;
            ctx.Items[RoleKey] = match.Role;
        }

        // Viewers see alerts (with excerpts) and aggregates; raw posts, search, networks, dead letters and appeals are
        // for analysts and admins (DESIGN.md, safeguards).
        if (isApi && Role(ctx) < DashboardRole.Analyst && IsAnalystRead(ctx.Request.Path))
        {
            await WriteErrorAsync(ctx, 403, "viewers see alerts and aggregates; posts, networks and dead letters need an analyst key").ConfigureAwait(false);
            return;
        }

        if (isApi && !HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
        {
            if (Role(ctx) < DashboardRole.Analyst && !IsAdminPath(ctx.Request.Path))
            {
                await WriteErrorAsync(ctx, 403, "this API key may only read").ConfigureAwait(false);
                return;
            }
            // JSON only: a cross-site HTML form cannot send it without a CORS preflight, which this server never grants.
            if (!(ctx.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
            {
                await WriteErrorAsync(ctx, 415, "send the body as application/json").ConfigureAwait(false);
                return;
            }
        }

        try
        {
            await next(ctx).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (BadHttpRequestException ex)
        {
            if (!ctx.Response.HasStarted) await WriteErrorAsync(ctx, ex.StatusCode, "bad request").ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The last line of defence: a store failure must become a 500 JSON answer, not a dropped connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _log.LogError(ex, "request {Method} {Path} failed", ctx.Request.Method, ctx.Request.Path.Value);
            if (!ctx.Response.HasStarted) await WriteErrorAsync(ctx, 500, "internal error; see the server log").ConfigureAwait(false);
        }
    }

    private static bool IsLocalHostName(string host) =>
        host is "127.0.0.1" or "[::1]" or "::1" || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase);

    private static string? ReadKey(HttpRequest r)
    {
        var k = r.Headers["X-Api-Key"].ToString();
        if (k.Length > 0) return k;
        var auth = r.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));

    private static string Actor(HttpContext ctx) => ctx.Items[ActorKey] as string ?? "local";
    private static DashboardRole Role(HttpContext ctx) => ctx.Items[RoleKey] is DashboardRole r ? r : DashboardRole.Viewer;

    private void Audit(HttpContext ctx, string action, string target)
    {
        var e = new DashboardAuditEvent(options.Time.GetUtcNow(), Actor(ctx), action, target);
        _log.LogInformation("audit: {Actor} {Action} {Target}", e.Actor, e.Action, e.Target);
        options.Audit?.Invoke(e);
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, Json, statusCode: status);

    private static Task WriteErrorAsync(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.Headers.CacheControl = "no-store";
        return ctx.Response.WriteAsJsonAsync(new { error = message }, Json, ctx.RequestAborted);
    }

    private static IResult Ok<T>(T value) => Results.Json(value, Json);

    // ---- handlers ------------------------------------------------------------------------------------------

    private IResult Health() => Ok(new { status = "ok", pipeline = live.GetStatus().State, time = options.Time.GetUtcNow() });

    private async Task<IResult> Stats(HttpContext ctx)
    {
        var counts = await store.GetCountsAsync(ctx.RequestAborted).ConfigureAwait(false);
        return Ok(new { store = counts, pipeline = live.GetStatus(), time = options.Time.GetUtcNow() });
    }

    private async Task<IResult> ListAlerts(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var query = new AlertQuery(
            Country: q.Country(),
            Region: q.Text("region"),
            Kind: q.OneOf("kind", AlertKinds.All),
            Status: q.OneOf("status", [AlertStatus.New, .. StatusChanges]),
            MinSeverity: q.Severity("min_severity"),
            From: q.Time("from"),
            To: q.Time("to"),
            Limit: q.Int("limit", 200, 1, 2000));
        if (q.Error is { } err) return Error(400, err);
        if (query.From > query.To) return Error(400, "'from' is after 'to'");
        var alerts = await store.GetAlertsAsync(query, ctx.RequestAborted).ConfigureAwait(false);
        var list = alerts
            .OrderByDescending(a => a.WindowStart).ThenByDescending(a => a.Severity).ThenBy(a => a.Id, StringComparer.Ordinal)
            .Take(query.Limit)
            .Select(DashboardViews.Summary)
            .ToList();
        return Ok(new { count = list.Count, limit = query.Limit, alerts = list });
    }

    private async Task<IResult> GetAlert(HttpContext ctx, string id)
    {
        if (DashboardQuery.CheckId(id, out var err) is null) return Error(400, err!);
        var alert = await store.GetAlertAsync(id, ctx.RequestAborted).ConfigureAwait(false);
        return alert is null ? Error(404, "no such alert") : Ok(DashboardViews.Detail(alert));
    }

    private async Task<IResult> SetStatus(HttpContext ctx, string id)
    {
        if (DashboardQuery.CheckId(id, out var err) is null) return Error(400, err!);
        var (body, bodyError) = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (body is null) return Error(400, bodyError!);
        using (body)
        {
            var status = GetString(body.RootElement, "status", 32, out err);
            var note = err is null ? GetString(body.RootElement, "note", MaxNoteLength, out err) : null;
            if (err is not null) return Error(400, err);
            var canonical = StatusChanges.FirstOrDefault(s => string.Equals(s, status, StringComparison.OrdinalIgnoreCase));
            if (canonical is null) return Error(400, "'status' must be one of: " + string.Join(", ", StatusChanges));
            var actor = Actor(ctx);
            if (!await store.UpdateAlertStatusAsync(id, canonical, actor, note, ctx.RequestAborted).ConfigureAwait(false))
                return Error(404, "no such alert");
            Audit(ctx, "alert_status:" + canonical, id);
            var alert = await store.GetAlertAsync(id, ctx.RequestAborted).ConfigureAwait(false);
            return alert is null ? Error(404, "no such alert") : Ok(DashboardViews.Detail(alert));
        }
    }

    private static readonly string[] GroupBys = ["region", "target_group", "none"];

    /// <summary>
    /// Hateful (or any label's) volume per 5-minute bucket. Stores sum over the dimensions a query leaves free, so
    /// this asks once for the total and once per value of the <c>group_by</c> dimension, taking the values from the
    /// live series scopes and from the alerts' scopes.
    /// </summary>
    private async Task<IResult> Timeline(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var query = new TimelineQuery(
            Country: q.Country(),
            Region: q.Text("region"),
            TargetGroup: q.Text("target_group"),
            Label: q.OneOf("label", TimelineLabels),
            From: q.Time("from"),
            To: q.Time("to"));
        var groupBy = q.OneOf("group_by", GroupBys) ?? (query.Region is null ? "region" : "target_group");
        if (q.Error is { } err) return Error(400, err);
        if (query.From > query.To) return Error(400, "'from' is after 'to'");
        if (groupBy == "region" && query.Region is not null) groupBy = "none";
        if (groupBy == "target_group" && query.TargetGroup is not null) groupBy = "none";
        var ct = ctx.RequestAborted;

        var alerts = await store.GetAlertsAsync(new AlertQuery(query.Country, query.Region, From: query.From, To: query.To, Limit: 1000), ct).ConfigureAwait(false);
        var catalog = live.GetSeriesScopes().Concat(alerts.Select(a => a.Scope)).ToList();
        if (query.Country is not null)
        {
            // The region list for the selectors spans every country, not only the one asked for.
            var all = await store.GetAlertsAsync(new AlertQuery(Limit: 1000), ct).ConfigureAwait(false);
            catalog.AddRange(all.Select(a => a.Scope));
        }
        var regions = catalog
            .Where(s => !string.IsNullOrEmpty(s.Country) && !string.IsNullOrEmpty(s.Region))
            .Select(s => (Country: s.Country!, Region: s.Region!)).Distinct()
            .OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Region, StringComparer.Ordinal)
            .Select(r => new { country = r.Country, region = r.Region }).ToList();

        var queries = new List<TimelineQuery> { query };
        var inScope = catalog.Where(s =>
            (query.Country is null || s.Country == query.Country) && (query.Region is null || s.Region == query.Region)
            && (query.TargetGroup is null || s.TargetGroup == query.TargetGroup));
        if (groupBy == "region")
        {
            queries.AddRange(inScope.Where(s => !string.IsNullOrEmpty(s.Country) && !string.IsNullOrEmpty(s.Region))
                .Select(s => (s.Country, s.Region)).Distinct().Take(MaxTimelineGroups)
                .Select(r => query with { Country = r.Country, Region = r.Region }));
        }
        else if (groupBy == "target_group")
        {
            queries.AddRange(inScope.Select(s => s.TargetGroup).Where(t => !string.IsNullOrEmpty(t)).Distinct().Take(MaxTimelineGroups)
                .Select(t => query with { TargetGroup = t }));
        }

        var points = new List<SeriesPoint>();
        foreach (var tq in queries)
        {
            foreach (var p in await store.GetTimelineAsync(tq, ct).ConfigureAwait(false))
            {
                // Name the series by what was asked, whatever the store writes in dimensions it summed over.
                points.Add(p with
                {
                    Country = tq.Country ?? AnyValue,
                    Region = tq.Region ?? AnyValue,
                    TargetGroup = tq.TargetGroup ?? AnyValue,
                    Label = tq.Label ?? AnyValue,
                });
            }
        }

        DateTimeOffset? from = query.From, to = query.To;
        IEnumerable<SeriesPoint> kept = points;
        if (from is null && points.Count > 0)
        {
            // No range asked for: show the most recent span of event time, not the whole history.
            var newest = points.Max(p => p.BucketStart);
            var cut = newest - DefaultTimelineSpan;
            from = cut;
            kept = points.Where(p => p.BucketStart >= cut);
        }
        var series = DashboardViews.Series(kept);
        var truncated = false;
        if (series.Sum(s => s.Points.Count) > MaxTimelinePoints)
        {
            truncated = true;
            var budget = MaxTimelinePoints;
            series = series.OrderByDescending(s => s.Total).TakeWhile(s => (budget -= s.Points.Count) >= 0).ToList();
        }
        var markers = alerts
            .Where(a => query.TargetGroup is null || a.Scope.TargetGroup is null || a.Scope.TargetGroup == query.TargetGroup)
            .Where(a => from is null || a.WindowEnd >= from)
            .OrderBy(a => a.WindowStart)
            .Select(DashboardViews.Marker)
            .ToList();
        return Ok(new DashboardViews.TimelineView(BucketSeconds, groupBy, from, to, truncated, series, markers, regions));
    }

    private async Task<IResult> Search(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var text = q.Text("q", DashboardQuery.MaxTextLength);
        var limit = q.Int("limit", 50, 1, 200);
        if (q.Error is { } err) return Error(400, err);
        if (text is null) return Error(400, "'q' is required");
        Audit(ctx, "search_posts", text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " chars");
        IReadOnlyList<StoredPost> posts;
        try
        {
            posts = await store.SearchPostsAsync(text, limit, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A store's query syntax (FTS5, Elasticsearch) may reject user text; that is bad input, not a server fault.
            _log.LogWarning(ex, "search failed");
            return Error(400, "the store could not run this search; try plain words");
        }
        var list = posts.Take(limit).Select(DashboardViews.ToView).ToList();
        return Ok(new { count = list.Count, posts = list });
    }

    private async Task<IResult> GetPost(HttpContext ctx, string id)
    {
        if (DashboardQuery.CheckId(id, out var err) is null) return Error(400, err!);
        var post = await store.GetPostAsync(id, ctx.RequestAborted).ConfigureAwait(false);
        if (post is null) return Error(404, "no such post");
        Audit(ctx, "view_post", id);
        return Ok(DashboardViews.ToView(post));
    }

    private async Task<IResult> DeadLetters(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var limit = q.Int("limit", 100, 1, 1000);
        if (q.Error is { } err) return Error(400, err);
        var list = await store.GetDeadLettersAsync(limit, ctx.RequestAborted).ConfigureAwait(false);
        var cipher = options.Safeguards?.DeadLetters;
        var views = list.Take(limit).Select(d => DashboardViews.ToView(d, cipher, MaxDeadLetterBytesShown)).ToList();
        // The original bytes were never pseudonymised: showing them is a view of raw data.
        if (views.Count > 0)
            Audit(ctx, AuditActions.ViewDeadLetters, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{views.Count} dead letters, ids {views.Min(v => v.Id)}..{views.Max(v => v.Id)}"));
        return Ok(new { count = views.Count, dead_letters = views });
    }

    private async Task<IResult> AddFeedback(HttpContext ctx)
    {
        var (body, bodyError) = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (body is null) return Error(400, bodyError!);
        using (body)
        {
            var postId = GetString(body.RootElement, "post_id", DashboardQuery.MaxIdLength, out var err);
            var label = err is null ? GetString(body.RootElement, "label", 32, out err) : null;
            var note = err is null ? GetString(body.RootElement, "note", MaxNoteLength, out err) : null;
            if (err is not null) return Error(400, err);
            if (string.IsNullOrWhiteSpace(postId)) return Error(400, "'post_id' is required");
            var canonical = Labels.All.FirstOrDefault(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase));
            if (canonical is null) return Error(400, "'label' must be one of: " + string.Join(", ", Labels.All));
            if (await store.GetPostAsync(postId, ctx.RequestAborted).ConfigureAwait(false) is null) return Error(404, "no such post");
            var feedback = new Feedback(postId, canonical, Actor(ctx), note, options.Time.GetUtcNow());
            await store.AddFeedbackAsync(feedback, ctx.RequestAborted).ConfigureAwait(false);
            Audit(ctx, "feedback:" + canonical, postId);
            return Results.Json(DashboardViews.ToView(feedback), Json, statusCode: 201);
        }
    }

    private IResult Amplifiers(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var limit = q.Int("limit", 20, 1, 200);
        if (q.Error is { } err) return Error(400, err);
        var list = live.GetAmplifiers(limit).Take(limit).ToList();
        return Ok(new { count = list.Count, amplifiers = list });
    }

    private IResult Clusters(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var limit = q.Int("limit", 20, 1, 200);
        if (q.Error is { } err) return Error(400, err);
        var list = live.GetClusters(limit).Take(limit).ToList();
        return Ok(new { count = list.Count, clusters = list });
    }

    private IResult Ego(HttpContext ctx, string account)
    {
        if (DashboardQuery.CheckId(account, out var err) is null) return Error(400, err!);
        var q = new DashboardQuery(ctx.Request.Query);
        var depth = q.Int("depth", 1, 1, 3);
        var maxNodes = q.Int("max_nodes", 100, 1, 500);
        if (q.Error is { } qerr) return Error(400, qerr);
        var ego = live.GetEgoNetwork(account, depth, maxNodes);
        return ego is null ? Error(404, "no such account in the network") : Ok(ego);
    }

    // ---- appeals and admin safeguards ---------------------------------------------------------------------

    private static readonly string[] AppealStatuses = [AppealStatus.Open, AppealStatus.Upheld, AppealStatus.Reversed];
    private static readonly string[] AppealOutcomes = ["uphold", "reverse"];

    private AppealsService? Appeals => options.Safeguards?.Appeals;
    private ReidentificationService? Reidentification => options.Safeguards?.Reidentification;

    private static IResult Unavailable(string what) =>
        Error(503, what + " needs the safeguard tables beside the SQLite store; this server has none");

    /// <summary>A refusal the services raise (role, state, unknown object) as an HTTP answer.</summary>
    private static IResult Refused(Exception ex) => ex switch
    {
        UnauthorizedAccessException => Error(403, ex.Message),
        InvalidOperationException => Error(409, ex.Message),
        ArgumentException a when a.Message.StartsWith("no ", StringComparison.Ordinal) => Error(404, StripParamName(a)),
        ArgumentException a => Error(400, StripParamName(a)),
        _ => Error(500, "internal error; see the server log"),
    };

    private static string StripParamName(ArgumentException a) =>
        a.ParamName is { } p ? a.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : a.Message;

    /// <summary>Writes a refusal of an admin action to the audit log (or the dashboard's audit callback).</summary>
    private async Task AuditDeniedAsync(HttpContext ctx, string action, string target)
    {
        var note = $"role {Role(ctx)}";
        if (options.Safeguards?.Audit is { } log)
        {
            await log.AppendAsync(Actor(ctx), action, target, note, ctx.RequestAborted).ConfigureAwait(false);
            _log.LogInformation("audit: {Actor} {Action} {Target}", Actor(ctx), action, target);
        }
        else Audit(ctx, action, target);
    }

    private async Task<IResult> ListAppeals(HttpContext ctx)
    {
        var q = new DashboardQuery(ctx.Request.Query);
        var status = q.OneOf("status", AppealStatuses);
        var limit = q.Int("limit", 200, 1, 2000);
        if (q.Error is { } err) return Error(400, err);
        if (Appeals is not { } appeals) return Unavailable("appeals");
        var list = await appeals.ListAsync(status, ctx.RequestAborted).ConfigureAwait(false);
        var page = list.OrderByDescending(a => a.FiledAt).ThenBy(a => a.Id, StringComparer.Ordinal).Take(limit).ToList();
        return Ok(new { count = page.Count, appeals = page });
    }

    /// <summary><c>POST /api/appeals {post_id, reason, on_behalf_of}</c>: an analyst contests a decision for an affected person or partner.</summary>
    private async Task<IResult> FileAppeal(HttpContext ctx)
    {
        if (Appeals is not { } appeals) return Unavailable("appeals");
        var (body, bodyError) = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (body is null) return Error(400, bodyError!);
        using (body)
        {
            var postId = GetString(body.RootElement, "post_id", DashboardQuery.MaxIdLength, out var err);
            var reason = err is null ? GetString(body.RootElement, "reason", AppealsService.MaxTextLength, out err) : null;
            var onBehalfOf = err is null ? GetString(body.RootElement, "on_behalf_of", MaxNoteLength, out err) : null;
            if (err is not null) return Error(400, err);
            if (postId is null) return Error(400, "'post_id' is required");
            if (reason is null) return Error(400, "'reason' is required: why the decision is contested");
            if (onBehalfOf is null) return Error(400, "'on_behalf_of' is required: the affected person or partner the appeal is filed for");
            try
            {
                var appeal = await appeals.FileAsync(postId, reason, onBehalfOf, Actor(ctx), Role(ctx), ctx.RequestAborted).ConfigureAwait(false);
                return Results.Json(appeal, Json, statusCode: 201);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                return Refused(ex);
            }
        }
    }

    /// <summary>
    /// <c>POST /api/appeals/{id}/review {outcome: uphold|reverse, label?, note?}</c>: another analyst decides. A reversal
    /// records the corrected label (default <c>none</c>) as feedback, which flows into training data.
    /// </summary>
    private async Task<IResult> ReviewAppeal(HttpContext ctx, string id)
    {
        if (DashboardQuery.CheckId(id, out var idErr) is null) return Error(400, idErr!);
        if (Appeals is not { } appeals) return Unavailable("appeals");
        var (body, bodyError) = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (body is null) return Error(400, bodyError!);
        using (body)
        {
            var outcome = GetString(body.RootElement, "outcome", 16, out var err);
            var label = err is null ? GetString(body.RootElement, "label", 32, out err) : null;
            var note = err is null ? GetString(body.RootElement, "note", AppealsService.MaxTextLength, out err) : null;
            if (err is not null) return Error(400, err);
            var canonical = AppealOutcomes.FirstOrDefault(o => string.Equals(o, outcome, StringComparison.OrdinalIgnoreCase));
            if (canonical is null) return Error(400, "'outcome' must be one of: " + string.Join(", ", AppealOutcomes));
            string? corrected = null;
            if (label is not null)
            {
                if (canonical == "uphold") return Error(400, "'label' is for a reversal only");
                corrected = Labels.All.FirstOrDefault(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase));
                if (corrected is null) return Error(400, "'label' must be one of: " + string.Join(", ", Labels.All));
            }
            try
            {
                var reviewed = await appeals.ReviewAsync(id, canonical == "reverse" ? AppealOutcome.Reverse : AppealOutcome.Uphold,
                    Actor(ctx), Role(ctx), corrected, note, ctx.RequestAborted).ConfigureAwait(false);
                return Ok(reviewed);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                return Refused(ex);
            }
        }
    }

    /// <summary><c>POST /api/admin/reidentify {pseudonym, reason}</c>: admin only; every attempt, allowed or refused, is audited.</summary>
    private async Task<IResult> Reidentify(HttpContext ctx)
    {
        var (body, bodyError) = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (body is null) return Error(400, bodyError!);
        string? pseudonym, reason;
        using (body)
        {
            pseudonym = GetString(body.RootElement, "pseudonym", DashboardQuery.MaxIdLength, out var err);
            reason = err is null ? GetString(body.RootElement, "reason", MaxNoteLength, out err) : null;
            if (err is not null) return Error(400, err);
        }
        if (pseudonym is null) return Error(400, "'pseudonym' is required");
        if (Role(ctx) != DashboardRole.Admin)
        {
            await AuditDeniedAsync(ctx, AuditActions.ReidentifyDenied, pseudonym).ConfigureAwait(false);
            return Error(403, "re-identification is for the admin role only");
        }
        if (reason is null) return Error(400, "'reason' is required: why this pseudonym must be re-identified (it is audited)");
        if (Reidentification is not { } service) return Unavailable("re-identification");
        try
        {
            var original = await service.ReidentifyAsync(pseudonym, Actor(ctx), Role(ctx), reason, ctx.RequestAborted).ConfigureAwait(false);
            return Ok(new { pseudonym, found = original is not null, original, enabled = service.Enabled });
        }
        catch (Exception ex) when (ex is ArgumentException or UnauthorizedAccessException)
        {
            return Refused(ex);
        }
    }

    private async Task<IResult> KeyVersions(HttpContext ctx)
    {
        if (Role(ctx) != DashboardRole.Admin)
        {
            await AuditDeniedAsync(ctx, AuditActions.KeyRotation + "_denied", "pseudonym.key").ConfigureAwait(false);
            return Error(403, "key management is for the admin role only");
        }
        if (options.Safeguards?.Keys is not { } keys) return Unavailable("key management");
        return Ok(new { current_version = keys.CurrentVersion, versions = keys.Versions(), reidentification_enabled = Reidentification?.Enabled ?? false });
    }

    /// <summary>
    /// <c>POST /api/admin/keys/rotate</c>: admin only, audited. A new key version becomes current; known pseudonyms are
    /// mapped forward. A running pipeline keeps its key until it is started again.
    /// </summary>
    private async Task<IResult> RotateKey(HttpContext ctx)
    {
        if (Role(ctx) != DashboardRole.Admin)
        {
            await AuditDeniedAsync(ctx, AuditActions.KeyRotation + "_denied", "pseudonym.key").ConfigureAwait(false);
            return Error(403, "key rotation is for the admin role only");
        }
        if (Reidentification is not { } service) return Unavailable("key rotation");
        try
        {
            var r = await service.RotateAsync(Actor(ctx), Role(ctx), ctx.RequestAborted).ConfigureAwait(false);
            return Ok(new
            {
                old_version = r.OldVersion,
                new_version = r.NewVersion,
                mapped_forward = r.MappedForward,
                note = "new pseudonyms use the new key from the next start of run; older versions are kept for re-identification",
            });
        }
        catch (UnauthorizedAccessException ex)
        {
            return Refused(ex);
        }
    }

    /// <summary>
    /// <c>GET /api/admin/audit?from=&amp;to=</c>: admin only; the audit log as JSON lines with each entry's hash (verifiable
    /// offline), header <c>X-Audit-Chain: intact|broken</c>. The export itself is recorded in the log.
    /// </summary>
    private async Task<IResult> AuditExport(HttpContext ctx)
    {
        if (Role(ctx) != DashboardRole.Admin)
        {
            await AuditDeniedAsync(ctx, AuditActions.AuditExport + "_denied", "audit_log").ConfigureAwait(false);
            return Error(403, "the audit log export is for the admin role only");
        }
        var q = new DashboardQuery(ctx.Request.Query);
        var from = q.Time("from");
        var to = q.Time("to");
        if (q.Error is { } err) return Error(400, err);
        if (options.Safeguards?.Audit is not { } log) return Unavailable("the audit log");
        var verification = await log.VerifyAsync(ctx.RequestAborted).ConfigureAwait(false);
        var body = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var n = await log.ExportJsonlAsync(body, from, to, ctx.RequestAborted).ConfigureAwait(false);
        await log.AppendAsync(Actor(ctx), AuditActions.AuditExport, "audit_log",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{n} entries"), ctx.RequestAborted).ConfigureAwait(false);
        ctx.Response.Headers["X-Audit-Chain"] = verification.Valid ? "intact" : "broken";
        return Results.Text(body.ToString(), "application/x-ndjson", System.Text.Encoding.UTF8);
    }

    // ---- body helpers --------------------------------------------------------------------------------------

    private static async Task<(JsonDocument? Doc, string? Error)> ReadBodyAsync(HttpContext ctx)
    {
        if (ctx.Request.ContentLength > MaxBodyBytes) return (null, $"body larger than {MaxBodyBytes} bytes");
        try
        {
            var doc = await JsonDocument.ParseAsync(ctx.Request.Body, new JsonDocumentOptions { MaxDepth = 8 }, ctx.RequestAborted).ConfigureAwait(false);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return (doc, null);
            doc.Dispose();
            return (null, "body must be a JSON object");
        }
        catch (JsonException)
        {
            return (null, "body is not valid JSON");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, $"body larger than {MaxBodyBytes} bytes");
        }
    }

    /// <summary>An optional string property: null when absent or JSON null; an error when of another type or too long.</summary>
    private static string? GetString(JsonElement obj, string name, int maxLength, out string? error)
    {
        error = null;
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) { error = $"'{name}' must be a string"; return null; }
        var s = v.GetString()!;
        if (s.Length > maxLength) { error = $"'{name}' is longer than {maxLength} characters"; return null; }
        if (s.Any(c => char.IsControl(c) && c is not '\n' and not '\t')) { error = $"'{name}' contains control characters"; return null; }
        s = s.Trim();
        return s.Length == 0 ? null : s;
    }
}
