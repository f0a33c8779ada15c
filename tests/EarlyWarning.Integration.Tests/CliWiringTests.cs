using System.Diagnostics;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>The run verb wires delivery and the transparency report to the real store, end to end.</summary>
public class CliWiringTests
{
    [Fact]
    public async Task Sigterm_stops_a_run_gracefully_with_its_summary_and_exit_code_0()
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = TestPaths.NewTempDir("ew-term");
        var db = Path.Combine(dir, "ew.db");
        using var p = KafkaPipelineTests.StartChild(["run", "--source", "simulate", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", dir], out var output);
        // Wait until posts are flowing, then send SIGTERM as docker stop or systemd would.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !p.HasExited)
        {
            lock (output) if (output.ToString().Contains("reading ", StringComparison.Ordinal)) break;
            await Task.Delay(200);
        }
        await Task.Delay(2000);
        Assert.False(p.HasExited, "the run ended by itself: " + output);
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill!.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        string log;
        lock (output) log = output.ToString();
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {log}");
        Assert.Contains("stored", log, StringComparison.Ordinal);
        Assert.Contains("stage state:", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--help")]
    [InlineData("run", "--source", "simulate", "-h")]
    [InlineData("train", "--help")]
    [InlineData("--help")]
    public async Task Help_prints_the_usage_and_never_starts_the_verb(params string[] args)
    {
        var dir = TestPaths.NewTempDir("ew-help");
        var cwd = Environment.CurrentDirectory;
        // A run would create ./data/ (and bind the dashboard port); help must do neither.
        var (rc, stdout, _) = await EndToEndTests.RunCliAsync([.. args, "--data-dir", Path.Combine(dir, "data")]);
        Assert.Equal(0, rc);
        Assert.Contains("usage: earlywarning VERB", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "data")));
        Assert.Equal(cwd, Environment.CurrentDirectory);
    }

    [Fact]
    public async Task A_database_that_cannot_be_opened_is_a_one_line_error_with_exit_code_1_not_a_crash()
    {
        var dir = TestPaths.NewTempDir("ew-cli-baddb");
        var notAFile = Directory.CreateDirectory(Path.Combine(dir, "ew.db")).FullName; // a directory where the database should be
        var (rc, _, err) = await EndToEndTests.RunCliAsync("run", "--source", "simulate:election-day", "--until-end", "--no-dashboard",
            "--store", "sqlite:" + notAFile, "--data-dir", dir);
        Assert.Equal(1, rc);
        Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        Assert.Contains("unable to open database file", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Run_delivers_stored_alerts_to_a_signed_webhook_once_and_the_transparency_report_counts_them()
    {
        var dir = TestPaths.NewTempDir("ew-wire");
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var received = new ConcurrentBag<(string Key, bool SignatureOk)>();
        const string secret = "s3cret-for-the-test-0123456789";
        var serve = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch (HttpListenerException) { return; } catch (ObjectDisposedException) { return; }
                using var ms = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(ms);
                var body = ms.ToArray();
                received.Add((ctx.Request.Headers["X-EarlyWarning-Idempotency-Key"] ?? "",
                    WebhookChannel.Verify(body, secret, ctx.Request.Headers["X-EarlyWarning-Signature"] ?? "")));
                ctx.Response.StatusCode = 200;
                ctx.Response.Close();
            }
        });
        var subs = Path.Combine(dir, "subscriptions.json");
        File.WriteAllText(subs, JsonSerializer.Serialize(new
        {
            subscriptions = new[] { new { id = "all", name = "test hook", channel = "webhook", target = $"http://127.0.0.1:{port}/hook/", secret } },
        }));
        var db = Path.Combine(dir, "ew.db");
        string[] run = ["run", "--source", "simulate", "--seed", "1", "--posts", "50000", "--until-end", "--no-dashboard",
            "--store", "sqlite:" + db, "--data-dir", dir, "--subscriptions", subs];
        var (rc, _, err) = await EndToEndTests.RunCliAsync(run);
        Assert.True(rc == 0, err);

        await using var store = await SqliteStore.OpenAsync(db);
        var alerts = await store.GetAlertsAsync(new Core.Stores.AlertQuery(Limit: 10_000));
        Assert.NotEmpty(alerts);
        Assert.All(received, r => Assert.True(r.SignatureOk));
        var keys = received.Select(r => r.Key).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(alerts.Select(a => a.Id).ToHashSet(), keys.Select(k => k.Split(':')[0]).ToHashSet());

        // A replay of the same stream (new store, same delivery ledger) gives the same alerts and delivers nothing again.
        var before = received.Count;
        var (rc2, _, err2) = await EndToEndTests.RunCliAsync(["run", "--source", "simulate", "--seed", "1", "--posts", "50000", "--until-end",
            "--no-dashboard", "--store", "sqlite:" + Path.Combine(dir, "ew2.db"), "--data-dir", dir, "--subscriptions", subs]);
        Assert.True(rc2 == 0, err2);
        Assert.Equal(before, received.Count);
        listener.Stop();

        var (rc3, report, err3) = await EndToEndTests.RunCliAsync(["transparency-report", "--from", "2026-11-01", "--to", "2026-12-01",
            "--store", "sqlite:" + db, "--format", "json"]);
        Assert.True(rc3 == 0, err3);
        using var doc = JsonDocument.Parse(report);
        Assert.Equal(alerts.Count, doc.RootElement.GetProperty("alerts").GetInt32());
        Assert.Equal((await store.GetCountsAsync()).Posts, doc.RootElement.GetProperty("posts").GetInt64());
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
