namespace EarlyWarning.App.Http;

/// <summary>Where and how the dashboard server listens. The default binds to loopback only.</summary>
public sealed class DashboardOptions
{
    /// <summary>An IP literal or <c>localhost</c>. Anything but loopback requires <see cref="ApiKeys"/>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free port (read the result from <see cref="DashboardServer.Address"/>).</summary>
    public int Port { get; init; } = 5080;

    /// <summary>Folder of the static dashboard files; the App build copies <c>dashboards/web/**</c> there.</summary>
    public string WebRoot { get; init; } = Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>
    /// API keys with roles. Null or empty is the local default: no authentication, every caller is the actor
    /// <c>local</c>, and only a loopback host is allowed (DESIGN.md, "Human-rights safeguards").
    /// </summary>
    public IReadOnlyList<DashboardApiKey>? ApiKeys { get; init; }

    /// <summary>
    /// Receives an entry for every view of raw data (a post, a search) and every alert decision or feedback
    /// (DESIGN.md: "every view of raw data and every alert decision is in an audit log"). Must not throw.
    /// </summary>
    public Action<DashboardAuditEvent>? Audit { get; init; }

    /// <summary>Clock for feedback and audit timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Lowest level of ASP.NET Core's own log messages written to the console.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;

    /// <summary>Atom and CAP feeds; by default they share the dashboard's API keys.</summary>
    public FeedOptions? Feeds { get; init; }

    /// <summary>When set, <c>/metrics</c> serves these metrics in Prometheus text format (behind the same keys).</summary>
    public Observability.PrometheusExporter? Metrics { get; init; }

    /// <summary>Where <c>POST /api/reports</c> queues partner reports for the pipeline; null answers it with 503.</summary>
    public ReportIntake? Reports { get; init; }

    /// <summary>Appeals, re-identification, key rotation and dead-letter decryption; null answers their endpoints with 503.</summary>
    public Safeguards.SafeguardServices? Safeguards { get; init; }
}

/// <summary>What an API key may do: viewers read, analysts also change alert status and give feedback.</summary>
public enum DashboardRole
{
    Viewer = 0,
    Analyst = 1,
    Admin = 2,
}

/// <summary>One API key, the name that appears as actor in audit trails, and its role.</summary>
public sealed record DashboardApiKey(string Key, string Name, DashboardRole Role);

/// <summary>One audited action: who did what to which object (never the content itself).</summary>
public sealed record DashboardAuditEvent(DateTimeOffset At, string Actor, string Action, string Target);
