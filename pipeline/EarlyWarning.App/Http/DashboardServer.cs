using System.Net;
using EarlyWarning.Core.Stores;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

using EarlyWarning.App.Observability;

namespace EarlyWarning.App.Http;

/// <summary>
/// The built-in web dashboard and its JSON API on Kestrel (DESIGN.md, "web dashboard"). It reads only through
/// <see cref="IPipelineStore"/> and <see cref="IDashboardLive"/>, so it works on any store, and binds only to the
/// configured host (loopback by default).
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private DashboardServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The base address the server listens on, with the actual port when port 0 was asked for.</summary>
    public Uri Address { get; }

    /// <summary>Starts the server; returns once it accepts connections.</summary>
    public static async Task<DashboardServer> StartAsync(DashboardOptions options, IPipelineStore store, IDashboardLive live, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(live);
        if (options.Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(options), options.Port, "port must be 0..65535");
        var ip = ResolveHost(options.Host);
        var keys = options.ApiKeys is { Count: > 0 } k ? k : null;
        // Outside the local default the API must be authenticated (DESIGN.md, "Human-rights safeguards").
        if (keys is null && !IPAddress.IsLoopback(ip))
            throw new InvalidOperationException($"refusing to serve the dashboard on {options.Host} without API keys; bind to 127.0.0.1 or configure keys");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(DashboardServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = DashboardApi.MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Listen(ip, options.Port);
        });
        builder.Services.AddResponseCompression(o =>
        {
            o.Providers.Add<GzipCompressionProvider>();
            o.Providers.Add<BrotliCompressionProvider>();
        });
        builder.Services.AddSingleton(new DashboardApi(store, live, options));

        var app = builder.Build();
        var api = app.Services.GetRequiredService<DashboardApi>();
        app.Use(api.GuardAsync);
        app.UseResponseCompression();
        MapStatic(app, options.WebRoot);
        api.Map(app);
        app.MapReports(options.Reports, store, options);
        var feeds = options.Feeds ?? new FeedOptions();
        if (keys is not null && feeds.ApiKeys is null) feeds = new FeedOptions
        {
            PublicBaseUrl = feeds.PublicBaseUrl, Cap = feeds.Cap, Title = feeds.Title, DefaultLimit = feeds.DefaultLimit,
            MaxLimit = feeds.MaxLimit, ApiKeys = [.. keys.Select(k => k.Key)],
        };
        app.MapAlertFeeds(store, feeds);
        if (options.Metrics is not null) app.MapPrometheus(options.Metrics);

        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault() ?? $"http://{FormatHost(ip)}:{options.Port}";
        return new DashboardServer(app, new Uri(first.Replace("[::]", "[::1]", StringComparison.Ordinal)));
    }

    private static void MapStatic(WebApplication app, string webRoot)
    {
        if (!Directory.Exists(webRoot))
        {
            app.Logger.LogWarning("dashboard files not found in {WebRoot}; only the API is served", webRoot);
            app.MapGet("/", () => Results.Text("EarlyWarning API is running; the dashboard files were not found beside the executable.\n", "text/plain", statusCode: 503));
            return;
        }
        var files = new PhysicalFileProvider(Path.GetFullPath(webRoot));
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        types.Mappings[".css"] = "text/css; charset=utf-8";
        types.Mappings[".html"] = "text/html; charset=utf-8";
        types.Mappings[".svg"] = "image/svg+xml";
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = types,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
    }

    private static IPAddress ResolveHost(string host)
    {
        if (string.IsNullOrWhiteSpace(host)) throw new ArgumentException("host must be an IP address or 'localhost'", nameof(host));
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip)
            ? ip
            : throw new ArgumentException($"host '{host}' must be an IP address or 'localhost'", nameof(host));
    }

    private static string FormatHost(IPAddress ip) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();

    /// <summary>Stops accepting requests, lets running ones finish briefly, and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                await _app.StopAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Shutdown timed out; disposing below still closes the listener.
            }
        }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
