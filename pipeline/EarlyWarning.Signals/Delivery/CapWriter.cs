using System.Globalization;
using System.Xml.Linq;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>Settings of the CAP messages this installation sends.</summary>
public sealed record CapOptions
{
    /// <summary>CAP <c>sender</c>: globally unique id of this installation (no spaces, commas or &lt;/&amp;).</summary>
    public string Sender { get; init; } = "earlywarning@localhost";
    public string SenderName { get; init; } = "EarlyWarning";
    /// <summary><c>Actual</c>, <c>Exercise</c> (e.g. simulator streams), <c>System</c>, <c>Test</c> or <c>Draft</c>.</summary>
    public string Status { get; init; } = "Actual";
    /// <summary><c>Public</c>, or <c>Restricted</c> with <see cref="Restriction"/>.</summary>
    public string Scope { get; init; } = "Public";
    public string? Restriction { get; init; }
    public string Language { get; init; } = "en";
    public string Audience { get; init; } = "election monitors, early-warning and peacebuilding partners";
    /// <summary>CAP <c>expires</c> = window end + this.</summary>
    public TimeSpan ExpiresAfter { get; init; } = TimeSpan.FromHours(24);
    /// <summary>Links for <c>web</c> and the Atom list; none when null.</summary>
    public AlertLinks? Links { get; init; }
}

/// <summary>
/// OASIS CAP 1.2 (namespace <c>urn:oasis:names:tc:emergency:cap:1.2</c>) for one alert, elements in the order of
/// the CAP 1.2 schema. <c>identifier</c> is the alert id; <c>sent</c> is the time the alert was first detected (event
/// time), so a replay gives byte-identical documents. The mapping of severity, urgency and certainty is
/// <see cref="CapMapping"/>. Post text never appears: the description is the alert's explanation sentence.
/// </summary>
public static class CapWriter
{
    public const string Namespace = "urn:oasis:names:tc:emergency:cap:1.2";
    public const string MediaType = "application/cap+xml";
    public static readonly XNamespace Ns = Namespace;

    public static XDocument Document(Alert alert, CapOptions options) =>
        new(new XDeclaration("1.0", "utf-8", null), Element(alert, options));

    /// <summary>The <c>alert</c> element.</summary>
    public static XElement Element(Alert alert, CapOptions options)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scope == "Restricted" && string.IsNullOrWhiteSpace(options.Restriction))
            throw new ArgumentException("CAP scope Restricted needs a restriction text", nameof(options));
        var sent = alert.DetectedAt == default ? alert.WindowEnd : alert.DetectedAt;
        var root = new XElement(Ns + "alert",
            E("identifier", alert.Id),
            E("sender", options.Sender),
            E("sent", Time(sent)),
            E("status", options.Status),
            E("msgType", "Alert"),
            alert.Model is null ? null : E("source", alert.Model),
            E("scope", options.Scope),
            options.Scope == "Restricted" ? E("restriction", options.Restriction!) : null,
            alert.Status == AlertStatus.New ? null : E("note", "analyst status: " + alert.Status),
            Info(alert, options));
        return root;
    }

    private static XElement Info(Alert alert, CapOptions o)
    {
        var ci = CultureInfo.InvariantCulture;
        var responseType = alert.Status == AlertStatus.Dismissed ? "None" : alert.Severity >= Severity.High ? "Assess" : "Monitor";
        var description = AlertText.Clean(alert.Explanation, 2000) + string.Create(ci,
            $" Observed {alert.Observed:0.##} against a baseline of {alert.Baseline:0.##} between {Time(alert.WindowStart)} and {Time(alert.WindowEnd)}.");
        var info = new XElement(Ns + "info",
            E("language", o.Language),
            E("category", CapMapping.Category(alert)),
            E("event", CapMapping.EventName(alert.Kind)),
            E("responseType", responseType),
            E("urgency", CapMapping.Urgency(alert)),
            E("severity", CapMapping.Severity(alert)),
            E("certainty", CapMapping.Certainty(alert)),
            E("audience", o.Audience),
            Pair("eventCode", "earlywarning:kind", alert.Kind),
            E("effective", Time(alert.DetectedAt == default ? alert.WindowEnd : alert.DetectedAt)),
            E("onset", Time(alert.WindowStart)),
            E("expires", Time(alert.WindowEnd + o.ExpiresAfter)),
            E("senderName", o.SenderName),
            E("headline", AlertText.Clean($"{Alert.SeverityName(alert.Severity).ToUpperInvariant()}: {CapMapping.EventName(alert.Kind)} in {CapMapping.Where(alert.Scope)}", 160)),
            E("description", description),
            E("instruction", "Check the evidence on the dashboard, then acknowledge, escalate or mark the alert wrong. Do not share the excerpts publicly."),
            o.Links is null ? null : E("web", o.Links.Dashboard(alert.Id)),
            Pair("parameter", "earlywarning:severity", Alert.SeverityName(alert.Severity)),
            Pair("parameter", "earlywarning:score", alert.Score.ToString("0.###", ci)),
            Pair("parameter", "earlywarning:window_end", Time(alert.WindowEnd)),
            alert.Scope.TargetGroup is null ? null : Pair("parameter", "earlywarning:target_group", alert.Scope.TargetGroup),
            alert.Scope.Language is null ? null : Pair("parameter", "earlywarning:language", alert.Scope.Language),
            alert.Scope.Term is null ? null : Pair("parameter", "earlywarning:term", alert.Scope.Term),
            Area(alert.Scope));
        return info;
    }

    private static XElement Area(Scope scope) =>
        new(Ns + "area",
            E("areaDesc", CapMapping.Where(scope)),
            scope.Country is null ? null : Pair("geocode", "ISO 3166-1 alpha-2", scope.Country),
            scope.Region is null ? null : Pair("geocode", "earlywarning:region", scope.Region));

    private static XElement E(string name, string value) => new(Ns + name, value);

    private static XElement Pair(string name, string valueName, string value) =>
        new(Ns + name, E("valueName", valueName), E("value", value));

    /// <summary>CAP date-time: UTC as <c>+00:00</c>; CAP 1.2 forbids the "Z" designator.</summary>
    public static string Time(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "+00:00";
}
