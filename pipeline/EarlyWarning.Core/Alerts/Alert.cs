using System.Security.Cryptography;
using System.Text;

namespace EarlyWarning.Core.Alerts;

/// <summary>Alert kinds (DESIGN.md, "Output: an alert").</summary>
public static class AlertKinds
{
    public const string VolumeSpike = "volume_spike";
    public const string Incitement = "incitement";
    public const string CoordinatedCampaign = "coordinated_campaign";
    public const string InfluentialEscalation = "influential_escalation";
    public const string EmergingTerm = "emerging_term";
    public const string KnownContentMatch = "known_content_match";
    public const string VolumeDrop = "volume_drop";
    public static readonly string[] All = [VolumeSpike, Incitement, CoordinatedCampaign, InfluentialEscalation, EmergingTerm, KnownContentMatch, VolumeDrop];
}

/// <summary>Severity levels, lowest first.</summary>
public enum Severity { Low = 0, Medium = 1, High = 2, Critical = 3 }

/// <summary>Alert lifecycle states.</summary>
public static class AlertStatus
{
    public const string New = "new";
    public const string Acknowledged = "acknowledged";
    public const string Escalated = "escalated";
    public const string Dismissed = "dismissed";
    public static bool IsValid(string s) => s is New or Acknowledged or Escalated or Dismissed;
}

/// <summary>What an alert or signal is about. Null fields are "any".</summary>
public sealed record Scope(string? Country = null, string? Region = null, string? TargetGroup = null, string? Language = null, string? Term = null)
{
    public override string ToString() =>
        string.Join('/', new[] { Country, Region, TargetGroup, Language, Term }.Select(x => x ?? "*"));
}

/// <summary>The evidence behind an alert: post ids, top terms, pseudonymised accounts, short excerpts.</summary>
public sealed record Evidence
{
    public List<string> PostIds { get; init; } = [];
    public List<string> TopTerms { get; init; } = [];
    public List<string> Accounts { get; init; } = [];
    public List<string> Excerpts { get; init; } = [];
}

/// <summary>A detector's or network stage's finding, before alert rules give it a severity and an identity.</summary>
public sealed record Signal
{
    public required string Kind { get; init; }
    public required Scope Scope { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    /// <summary>Detector score; larger is more anomalous (for tail tests: -log10 p).</summary>
    public double Score { get; init; }
    public double Baseline { get; init; }
    public double Observed { get; init; }
    public Evidence Evidence { get; init; } = new();
    /// <summary>Largest follower count among the accounts involved (Rabat "speaker reach").</summary>
    public int Reach { get; init; }
    /// <summary>Share of the evidence posts flagged for incitement (Rabat "likelihood/imminence").</summary>
    public double IncitementShare { get; init; }
    public string? Detector { get; init; }
}

/// <summary>One entry of an alert's audit trail.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string? Note);

/// <summary>An early-warning alert (DESIGN.md, "Output: an alert").</summary>
public sealed class Alert
{
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required Severity Severity { get; set; }
    public double Score { get; set; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; set; }
    /// <summary>Event time at which the alert was first raised (for "alert within 5 minutes of onset").</summary>
    public DateTimeOffset DetectedAt { get; init; }
    public required Scope Scope { get; init; }
    public double Baseline { get; set; }
    public double Observed { get; set; }
    public Evidence Evidence { get; set; } = new();
    public required string Explanation { get; set; }
    public string? Model { get; init; }
    public string Status { get; set; } = AlertStatus.New;
    public List<AuditEntry> Audit { get; init; } = [];

    /// <summary>An alert's id is a hash of kind, scope and window start, so replays and restarts cannot duplicate it.</summary>
    public static string MakeId(string kind, Scope scope, DateTimeOffset windowStart)
    {
        var key = $"{kind}|{scope.Country}|{scope.Region}|{scope.TargetGroup}|{scope.Language}|{scope.Term}|{windowStart.ToUnixTimeSeconds()}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return "al_" + Convert.ToHexStringLower(hash[..10]);
    }

    public static string SeverityName(Severity s) => s switch
    {
        Severity.Low => "low",
        Severity.Medium => "medium",
        Severity.High => "high",
        _ => "critical",
    };

    public static Severity ParseSeverity(string s) => s switch
    {
        "low" => Severity.Low,
        "medium" => Severity.Medium,
        "high" => Severity.High,
        "critical" => Severity.Critical,
        _ => throw new FormatException($"unknown severity '{s}'"),
    };
}
