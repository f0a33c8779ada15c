using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.App.Http;

/// <summary>
/// The pull channels of alert delivery (issue 6): <c>GET /feeds/alerts.atom</c> (RFC 4287),
/// <c>GET /feeds/alerts.cap</c> (the same feed with each entry's CAP 1.2 alert as content) and
/// <c>GET /api/alerts/{id}/cap.xml</c> (one CAP 1.2 document). Feeds take <c>country</c>, <c>region</c>,
/// <c>kind</c>, <c>min_severity</c>, <c>limit</c> and <c>include_dismissed</c>; they carry an ETag so a reader on
/// a bad connection gets 304 when nothing changed.
/// </summary>
public static class FeedEndpoints
{
    private const string AtomType = "application/atom+xml; charset=utf-8";
    private const string CapType = "application/cap+xml; charset=utf-8";

    /// <summary>Maps the feed routes onto <paramref name="app"/>, reading alerts from <paramref name="store"/>.</summary>
    public static void MapAlertFeeds(this WebApplication app, IPipelineStore store, FeedOptions o)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(o);
        if (o.DefaultLimit < 1 || o.MaxLimit < o.DefaultLimit) throw new ArgumentException("feed limits must satisfy 1 <= DefaultLimit <= MaxLimit", nameof(o));
        app.MapGet("/feeds/alerts.atom", Handler(ctx => FeedAsync(ctx, store, o, embedCap: false)));
        app.MapGet("/feeds/alerts.cap", Handler(ctx => FeedAsync(ctx, store, o, embedCap: true)));
        app.MapGet("/api/alerts/{id}/cap.xml", (HttpContext ctx, string id) => CapAsync(ctx, store, o, id));
    }

    /// <summary>A route handler whose IResult is written (a bare HttpContext lambda would bind as a RequestDelegate and drop it).</summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> f) => f;

    private static async Task<IResult> FeedAsync(HttpContext ctx, IPipelineStore store, FeedOptions o, bool embedCap)
    {
        if (Unauthorized(ctx, o) is { } denied) return denied;
        var q = new DashboardQuery(ctx.Request.Query);
        var country = q.Country();
        var region = q.Text("region");
        var kind = q.OneOf("kind", AlertKinds.All);
        var min = q.Severity("min_severity");
        var limit = q.Int("limit", o.DefaultLimit, 1, o.MaxLimit);
        var includeDismissed = q.OneOf("include_dismissed", ["true", "false"]) == "true";
        if (q.Error is { } err) return Results.Text(err + "\n", "text/plain; charset=utf-8", statusCode: 400);

        // Ask for more than the limit when dismissed alerts are filtered out here, so the feed still fills up.
        var fetch = includeDismissed ? limit : Math.Min(limit * 2, 2000);
        var alerts = await store.GetAlertsAsync(new AlertQuery(country, region, kind, null, min, null, null, fetch), ctx.RequestAborted).ConfigureAwait(false);
        var list = alerts
            .Where(a => includeDismissed || a.Status != AlertStatus.Dismissed)
            .OrderByDescending(a => a.WindowStart).ThenByDescending(a => a.Severity).ThenBy(a => a.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        var links = Links(ctx, o);
        var path = embedCap ? "/feeds/alerts.cap" : "/feeds/alerts.atom";
        var self = links.BaseUrl.ToString().TrimEnd('/') + path + SelfQuery(ctx);
        var doc = AtomWriter.Feed(list, new AtomFeedOptions
        {
            Id = links.BaseUrl.ToString().TrimEnd('/') + path,
            Title = o.Title + (embedCap ? " (CAP 1.2)" : ""),
            SelfLink = self,
            Links = links,
            EmbedCap = embedCap ? o.Cap with { Links = links } : null,
        });
        return Xml(ctx, doc, AtomType);
    }

    private static async Task<IResult> CapAsync(HttpContext ctx, IPipelineStore store, FeedOptions o, string id)
    {
        if (Unauthorized(ctx, o) is { } denied) return denied;
        if (DashboardQuery.CheckId(id, out var err) is null) return Results.Text(err + "\n", "text/plain; charset=utf-8", statusCode: 400);
        var alert = await store.GetAlertAsync(id, ctx.RequestAborted).ConfigureAwait(false);
        if (alert is null) return Results.Text("no such alert\n", "text/plain; charset=utf-8", statusCode: 404);
        return Xml(ctx, CapWriter.Document(alert, o.Cap with { Links = Links(ctx, o) }), CapType);
    }

    private static IResult? Unauthorized(HttpContext ctx, FeedOptions o)
    {
        if (o.ApiKeys is not { Count: > 0 } keys) return null;
        var r = ctx.Request;
        var given = r.Headers["X-Api-Key"].ToString();
        if (given.Length == 0)
        {
            var auth = r.Headers.Authorization.ToString();
            given = auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : r.Query["key"].ToString();
        }
        var g = Encoding.UTF8.GetBytes(given);
        if (given.Length > 0 && keys.Any(k => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(k), g))) return null;
        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Text("an API key is required (header X-Api-Key, Authorization: Bearer, or ?key=)\n", "text/plain; charset=utf-8", statusCode: 401);
    }

    private static AlertLinks Links(HttpContext ctx, FeedOptions o) =>
        new(o.PublicBaseUrl ?? new Uri($"{ctx.Request.Scheme}://{ctx.Request.Host.Value}/"));

    /// <summary>The request's filters, minus any key, for the self link.</summary>
    private static string SelfQuery(HttpContext ctx)
    {
        var parts = ctx.Request.Query
            .Where(kv => kv.Key != "key")
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value.ToString()))
            .ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static IResult Xml(HttpContext ctx, XDocument doc, string contentType)
    {
        using var ms = new MemoryStream();
        using (var w = XmlWriter.Create(ms, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
            doc.Save(w);
        var bytes = ms.ToArray();
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"";
        ctx.Response.Headers.ETag = etag;
        ctx.Response.Headers.CacheControl = "no-cache";
        if (ctx.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == etag)))
            return Results.StatusCode(304);
        return Results.Bytes(bytes, contentType);
    }
}
