using Microsoft.Playwright;

namespace EarlyWarning.Browser.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright's bundled driver. Never downloads a browser: the executable is the system
/// package (<c>/usr/bin/chromium</c>, or <c>EARLYWARNING_CHROMIUM</c>), and every launch gets a fresh profile folder.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string DefaultChromium = "/usr/bin/chromium";

    /// <summary>Flags that keep a headless Chromium off the network and away from services it would otherwise call.</summary>
    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _profileDir;

    private BrowserSession(IPlaywright playwright, IBrowserContext context, string profileDir)
    {
        _playwright = playwright;
        Context = context;
        _profileDir = profileDir;
    }

    public IBrowserContext Context { get; }

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("EARLYWARNING_CHROMIUM") is { Length: > 0 } p ? p : DefaultChromium;

    public static async Task<BrowserSession> LaunchAsync(string profileDir)
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"Chromium not found at {ChromiumPath}: install the Debian package 'chromium' (tests/run.sh does) or set EARLYWARNING_CHROMIUM");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profileDir, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
                Timeout = 60_000,
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
                Locale = "en-US",
                TimezoneId = "UTC",
                ServiceWorkers = ServiceWorkerPolicy.Block,
            });
            context.SetDefaultTimeout(20_000);
            return new BrowserSession(playwright, context, profileDir);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Context.CloseAsync();
        }
        finally
        {
            _playwright.Dispose();
            try { Directory.Delete(_profileDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
