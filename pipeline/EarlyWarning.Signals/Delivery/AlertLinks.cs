namespace EarlyWarning.Signals.Delivery;

/// <summary>
/// Links to an alert on the dashboard host: the dashboard view (<c>/#alert/{id}</c>), the JSON
/// (<c>/api/alerts/{id}</c>) and the CAP document (<c>/api/alerts/{id}/cap.xml</c>).
/// </summary>
public sealed class AlertLinks
{
    private readonly string _base;

    /// <summary>Links under the dashboard's public base URL, e.g. <c>http://127.0.0.1:5080</c>.</summary>
    public AlertLinks(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri) throw new ArgumentException("the dashboard base URL must be absolute", nameof(baseUrl));
        _base = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public Uri BaseUrl => new(_base + "/");
    public string Dashboard(string alertId) => $"{_base}/#alert/{Uri.EscapeDataString(alertId)}";
    public string Json(string alertId) => $"{_base}/api/alerts/{Uri.EscapeDataString(alertId)}";
    public string Cap(string alertId) => $"{_base}/api/alerts/{Uri.EscapeDataString(alertId)}/cap.xml";
}
