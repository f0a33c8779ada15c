using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.App.Http;

/// <summary>Settings of the pull channels: the Atom feed, the CAP list feed and per-alert CAP documents.</summary>
public sealed class FeedOptions
{
    /// <summary>
    /// The dashboard's public base URL for links in feeds. Null takes scheme and host from the request, which is right
    /// for the loopback default; set it whenever the server is reachable under another name.
    /// </summary>
    public Uri? PublicBaseUrl { get; init; }

    /// <summary>CAP sender, status (use <c>Exercise</c> for simulated streams), scope and wording.</summary>
    public CapOptions Cap { get; init; } = new();

    public string Title { get; init; } = "EarlyWarning alerts";

    /// <summary>Entries when the request gives no <c>limit</c>.</summary>
    public int DefaultLimit { get; init; } = 50;

    /// <summary>Largest <c>limit</c> honoured (larger values are capped).</summary>
    public int MaxLimit { get; init; } = 500;

    /// <summary>
    /// Keys that may read the feeds (header <c>X-Api-Key</c>, <c>Authorization: Bearer</c>, or <c>?key=</c> for feed
    /// readers that cannot send headers). Null or empty: no key needed (the loopback default).
    /// </summary>
    public IReadOnlyList<string>? ApiKeys { get; init; }
}
