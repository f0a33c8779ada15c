using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EarlyWarning.App.Observability;

/// <summary>Maps the Prometheus scrape endpoint (<c>GET /metrics</c>) onto the dashboard's web application.</summary>
public static class PrometheusEndpoint
{
    /// <summary>Serves <paramref name="exporter"/>'s text exposition at <paramref name="path"/>.</summary>
    public static IEndpointConventionBuilder MapPrometheus(this IEndpointRouteBuilder endpoints, PrometheusExporter exporter, string path = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(exporter);
        return endpoints.MapGet(path, () => Results.Text(exporter.Scrape(), PrometheusExporter.ContentType));
    }
}
