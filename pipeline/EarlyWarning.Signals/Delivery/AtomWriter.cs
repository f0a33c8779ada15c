using System.Globalization;
using System.Xml.Linq;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>What identifies and describes one Atom feed.</summary>
public sealed record AtomFeedOptions
{
    /// <summary>The feed's permanent id (an IRI); by convention the feed URL without its query.</summary>
    public required string Id { get; init; }
    public string Title { get; init; } = "EarlyWarning alerts";
    /// <summary>The URL this feed was served from (rel="self"), query included.</summary>
    public string? SelfLink { get; init; }
    public required AlertLinks Links { get; init; }
    /// <summary><c>updated</c> of an empty feed.</summary>
    public DateTimeOffset EmptyUpdated { get; init; } = DateTimeOffset.UnixEpoch;
    /// <summary>When set, each entry's content is the alert's CAP 1.2 document (the <c>/feeds/alerts.cap</c> list).</summary>
    public CapOptions? EmbedCap { get; init; }
}

/// <summary>
/// RFC 4287 Atom feeds of alerts: one entry per alert with a stable id (<c>urn:earlywarning:alert:{id}</c>),
/// title, updated, published, an alternate link to the dashboard, a related link to the CAP document, categories for
/// kind and severity, and the explanation as summary. With <see cref="AtomFeedOptions.EmbedCap"/> the entries carry
/// their CAP 1.2 alert as XML content (type <c>application/cap+xml</c>).
/// </summary>
public static class AtomWriter
{
    public const string Namespace = "http://www.w3.org/2005/Atom";
    public const string MediaType = "application/atom+xml";
    public const string KindScheme = "urn:earlywarning:kind";
    public const string SeverityScheme = "urn:earlywarning:severity";
    private static readonly XNamespace A = Namespace;

    /// <summary>An entry's <c>updated</c>: the later of the window end and the last audit entry.</summary>
    public static DateTimeOffset Updated(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var t = alert.WindowEnd > alert.DetectedAt ? alert.WindowEnd : alert.DetectedAt;
        foreach (var a in alert.Audit)
            if (a.At > t) t = a.At;
        return t;
    }

    public static XDocument Feed(IEnumerable<Alert> alerts, AtomFeedOptions options)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(options);
        var list = alerts.ToList();
        var updated = list.Count == 0 ? options.EmptyUpdated : list.Max(Updated);
        var feed = new XElement(A + "feed",
            new XElement(A + "id", options.Id),
            new XElement(A + "title", options.Title),
            new XElement(A + "updated", Time(updated)),
            new XElement(A + "author", new XElement(A + "name", "EarlyWarning")),
            new XElement(A + "generator", "EarlyWarning"),
            options.SelfLink is null ? null : Link("self", options.SelfLink, MediaType),
            Link("alternate", options.Links.BaseUrl.ToString(), "text/html"));
        foreach (var a in list) feed.Add(Entry(a, options));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), feed);
    }

    private static XElement Entry(Alert alert, AtomFeedOptions o)
    {
        var ci = CultureInfo.InvariantCulture;
        var summary = string.Create(ci,
            $"{Alert.SeverityName(alert.Severity)} ({CapMapping.Certainty(alert).ToLowerInvariant()}): {AlertText.Clean(alert.Explanation, 600)} Status: {alert.Status}.");
        return new XElement(A + "entry",
            new XElement(A + "id", "urn:earlywarning:alert:" + alert.Id),
            new XElement(A + "title", AlertText.Clean($"{Alert.SeverityName(alert.Severity).ToUpperInvariant()}: {CapMapping.EventName(alert.Kind)} in {CapMapping.Where(alert.Scope)}", 200)),
            new XElement(A + "updated", Time(Updated(alert))),
            new XElement(A + "published", Time(alert.DetectedAt == default ? alert.WindowStart : alert.DetectedAt)),
            Link("alternate", o.Links.Dashboard(alert.Id), "text/html"),
            Link("related", o.Links.Cap(alert.Id), CapWriter.MediaType),
            new XElement(A + "category", new XAttribute("term", alert.Kind), new XAttribute("scheme", KindScheme)),
            new XElement(A + "category", new XAttribute("term", Alert.SeverityName(alert.Severity)), new XAttribute("scheme", SeverityScheme)),
            new XElement(A + "summary", new XAttribute("type", "text"), summary),
            o.EmbedCap is null ? null : new XElement(A + "content", new XAttribute("type", CapWriter.MediaType), CapWriter.Element(alert, o.EmbedCap)));
    }

    private static XElement Link(string rel, string href, string type) =>
        new(A + "link", new XAttribute("rel", rel), new XAttribute("href", href), new XAttribute("type", type));

    /// <summary>RFC 3339 UTC with "Z".</summary>
    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
