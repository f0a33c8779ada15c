using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>
/// How our alerts map onto CAP 1.2's severity, urgency and certainty (documented in <c>Delivery/README.md</c>).
/// The same words are used in emails, so every channel says "how bad" and "how sure" alike.
/// </summary>
public static class CapMapping
{
    /// <summary>Detector score at or above which a statistical alert is "Likely" rather than "Possible" (tail tests: -log10 p, so p ≤ 1e-5).</summary>
    public const double LikelyScore = 5;

    /// <summary>critical → Extreme, high → Severe, medium → Moderate, low → Minor.</summary>
    public static string Severity(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.Severity switch
        {
            Core.Alerts.Severity.Critical => "Extreme",
            Core.Alerts.Severity.High => "Severe",
            Core.Alerts.Severity.Medium => "Moderate",
            _ => "Minor",
        };
    }

    /// <summary>
    /// Dismissed → Past. Otherwise by severity (critical → Immediate, high → Expected, lower → Future), one step more
    /// urgent for calls to violence (<c>incitement</c>, <c>influential_escalation</c>): they speak of imminent acts.
    /// </summary>
    public static string Urgency(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Status == AlertStatus.Dismissed) return "Past";
        var level = alert.Severity switch
        {
            Core.Alerts.Severity.Critical => 2,
            Core.Alerts.Severity.High => 1,
            _ => 0,
        };
        if (alert.Kind is AlertKinds.Incitement or AlertKinds.InfluentialEscalation) level = Math.Min(2, level + 1);
        return level switch { 2 => "Immediate", 1 => "Expected", _ => "Future" };
    }

    /// <summary>
    /// Dismissed → Unlikely; escalated by an analyst or a match of known content → Observed; a classified post
    /// (<c>incitement</c>, <c>influential_escalation</c>) → Likely; statistical findings → Likely when the score
    /// reaches <see cref="LikelyScore"/>, else Possible.
    /// </summary>
    public static string Certainty(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Status == AlertStatus.Dismissed) return "Unlikely";
        if (alert.Status == AlertStatus.Escalated || alert.Kind == AlertKinds.KnownContentMatch) return "Observed";
        if (alert.Kind is AlertKinds.Incitement or AlertKinds.InfluentialEscalation) return "Likely";
        return alert.Score >= LikelyScore ? "Likely" : "Possible";
    }

    /// <summary>CAP categories: a shutdown is infrastructure; everything else is a security (public order) matter.</summary>
    public static string Category(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.Kind == AlertKinds.VolumeDrop ? "Infra" : "Security";
    }

    /// <summary>A human name of an alert kind, for subjects, titles and CAP's <c>event</c>.</summary>
    public static string EventName(string kind) => kind switch
    {
        AlertKinds.VolumeSpike => "Spike in hateful posts",
        AlertKinds.Incitement => "Incitement to violence",
        AlertKinds.CoordinatedCampaign => "Coordinated hate campaign",
        AlertKinds.InfluentialEscalation => "Influential account escalating",
        AlertKinds.EmergingTerm => "Emerging hateful term",
        AlertKinds.KnownContentMatch => "Known violent content shared",
        AlertKinds.VolumeDrop => "Sudden drop in traffic (possible shutdown)",
        _ => "Early-warning alert (" + kind + ")",
    };

    /// <summary>"Region, Country" (or what of it is known).</summary>
    public static string Where(Scope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var parts = new List<string>(2);
        if (!string.IsNullOrEmpty(scope.Region)) parts.Add(scope.Region);
        if (!string.IsNullOrEmpty(scope.Country)) parts.Add(scope.Country);
        return parts.Count == 0 ? "unspecified area" : string.Join(", ", parts);
    }
}
