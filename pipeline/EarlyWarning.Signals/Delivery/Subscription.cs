using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>How a subscription is reached.</summary>
public enum ChannelKind
{
    /// <summary>Signed HTTP POST of the alert as JSON to a URL.</summary>
    Webhook = 0,
    /// <summary>Plain-text email through SMTP to an address.</summary>
    Email = 1,
    /// <summary>A message on a Kafka topic (the app supplies an <see cref="IAlertTopicWriter"/>).</summary>
    Topic = 2,
}

/// <summary>
/// Who wants which alerts, and through which channel. Filters are "any" when empty; an alert matches when its
/// country, region and kind are each in the lists given and its severity is at least <see cref="MinSeverity"/>.
/// </summary>
public sealed record Subscription
{
    /// <summary>Stable id: the delivery ledger keys on it, so renaming a subscription keeps its history.</summary>
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required ChannelKind Channel { get; init; }
    /// <summary>URL (webhook), email address (email) or topic name (topic).</summary>
    public required string Target { get; init; }
    /// <summary>HMAC key for webhook signatures; required for webhooks, unused otherwise.</summary>
    public string? Secret { get; init; }
    /// <summary>ISO 3166 alpha-2 codes, upper case; empty means any country.</summary>
    public IReadOnlyList<string> Countries { get; init; } = [];
    /// <summary>Region names as they appear in alert scopes (compared ignoring case); empty means any region.</summary>
    public IReadOnlyList<string> Regions { get; init; } = [];
    /// <summary>Alert kinds (<see cref="AlertKinds"/>); empty means every kind.</summary>
    public IReadOnlyList<string> Kinds { get; init; } = [];
    public Severity MinSeverity { get; init; } = Severity.Low;
    public bool Enabled { get; init; } = true;

    /// <summary>True when this subscription wants the alert as it is now.</summary>
    public bool Matches(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!Enabled || alert.Severity < MinSeverity) return false;
        if (Kinds.Count > 0 && !Kinds.Contains(alert.Kind, StringComparer.Ordinal)) return false;
        if (Countries.Count > 0 && (alert.Scope.Country is null || !Countries.Contains(alert.Scope.Country, StringComparer.OrdinalIgnoreCase))) return false;
        if (Regions.Count > 0 && (alert.Scope.Region is null || !Regions.Contains(alert.Scope.Region, StringComparer.OrdinalIgnoreCase))) return false;
        return true;
    }
}
