using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Integration.Tests;

/// <summary>Issue 8: partners report posts through <c>POST /api/reports</c>; a report enters the pipeline like any post.</summary>
public sealed class ReportsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly DateTimeOffset StreamStart = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_report_enters_the_running_pipeline_is_stored_with_its_reporter_and_a_decision_and_the_run_still_ends()
    {
        var dir = TestPaths.NewTempDir("ew-reports");
        var db = Path.Combine(dir, "ew.db");
        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        using var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
        var pseudonymizer = new Pseudonymizer(Encoding.UTF8.GetBytes("reports-test-key-0123456789abcdef"));
        var intake = await ReportIntake.OpenAsync(store);
        intake.StoredAccount = pseudonymizer.Pseudonymize;
        var main = new GatedSource(40);
        var runner = new PipelineRunner(new PipelineOptions(), new MergedSource(main, new ReportSource(intake)), store, classifier, pseudonymizer,
            new SignalEngine(new SignalOptions()), new NetworkEngine(new NetworkOptions()));
        intake.EventTime = () => runner.Status.EventTime;

        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0, Reports = intake }, store,
            new LiveView(runner, classifier.ModelId), CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = runner.RunAsync(stop.Token);

        // Wait until the main stream is in (the pipeline has an event time), then report.
        await WaitForAsync(() => Task.FromResult(runner.Status.Stored >= 40));
        var eventTime = runner.Status.EventTime!.Value;
        using var post = await http.PostAsJsonAsync("/api/reports", new
        {
            text = "a post telling people to gather at the polling station",
            lang = "en",
            geo = new { country = "ke", region = "Nairobi" },
            original_url = "https://example.org/p/1",
        });
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var accepted = await post.Content.ReadFromJsonAsync<JsonElement>();
        var number = accepted.GetProperty("report_id").GetInt64();
        Assert.Equal(1, number);
        Assert.Equal("report:1", accepted.GetProperty("post_id").GetString());
        var statusUrl = accepted.GetProperty("status_url").GetString()!;

        JsonElement status = default;
        await WaitForAsync(async () =>
        {
            status = await http.GetFromJsonAsync<JsonElement>(statusUrl);
            return status.GetProperty("status").GetString() is "stored" or "cited_by_alerts";
        });
        var decision = status.GetProperty("decision");
        Assert.Contains(decision.GetProperty("label").GetString(), Labels.All);
        Assert.Equal(classifier.ModelId, decision.GetProperty("model").GetString());
        Assert.True(decision.GetProperty("flags").TryGetProperty("incitement", out _));
        Assert.Equal(JsonValueKind.Array, status.GetProperty("alerts").ValueKind);
        Assert.Equal("local", status.GetProperty("reported_by").GetString());

        // The stored post: marked with its reporter, author pseudonymised, event time from the stream (not the wall clock).
        using (var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT reported_by, author, created_at, country, region, source, source_offset, raw FROM posts WHERE id = 'report:1'";
            using var r = cmd.ExecuteReader();
            Assert.True(r.Read());
            // The reporter is pseudonymised like an account id, in its column and in the stored document.
            Assert.Equal(pseudonymizer.Pseudonymize("local"), r.GetString(0));
            Assert.Contains("\"reported_by\":\"" + pseudonymizer.Pseudonymize("local") + "\"", r.GetString(7), StringComparison.Ordinal);
            Assert.DoesNotContain("\"local\"", r.GetString(7), StringComparison.Ordinal);
            Assert.Equal(pseudonymizer.Pseudonymize(ReportIntake.AccountOf("local")), r.GetString(1));
            Assert.NotEqual(ReportIntake.AccountOf("local"), r.GetString(1));
            Assert.Equal(eventTime.ToUnixTimeMilliseconds(), r.GetInt64(2));
            Assert.Equal("KE", r.GetString(3));
            Assert.Equal("Nairobi", r.GetString(4));
            Assert.Equal(ReportIntake.SourceName, r.GetString(5));
            Assert.Equal(1, r.GetInt64(6));
            Assert.Contains("\"original_url\":\"https://example.org/p/1\"", r.GetString(7), StringComparison.Ordinal);
        }

        // The main source ends: the merged source ends although reports never do, and the run finishes.
        main.Release();
        await run.WaitAsync(Timeout);
        Assert.Equal("finished", runner.Status.State);
        Assert.False(intake.IsOpen);
        using var late = await http.PostAsJsonAsync("/api/reports", new { text = "too late" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.Equal(1, await store.GetCheckpointAsync(ReportIntake.SourceName));
        Assert.Equal(40, await store.GetCheckpointAsync(main.Name));

        // After a restart numbering continues after the stored checkpoint.
        var reopened = await ReportIntake.OpenAsync(store);
        Assert.Equal(1, reopened.LastNumber);
        var next = reopened.TrySubmit(new ReportRequest("another"), "local", out _);
        Assert.Equal(2, next!.Number);
    }

    [Theory]
    [InlineData("""{"lang":"en"}""", "text")]
    [InlineData("""{"text":"   "}""", "text")]
    [InlineData("""{"text":5}""", "text")]
    [InlineData("""{"text":"ok","lang":"English"}""", "lang")]
    [InlineData("""{"text":"ok","geo":{"country":"Kenya"}}""", "geo.country")]
    [InlineData("""{"text":"ok","geo":{"country":"KE","city":"x"}}""", "geo.city")]
    [InlineData("""{"text":"ok","geo":"KE"}""", "geo")]
    [InlineData("""{"text":"ok","created_at":"yesterday"}""", "created_at")]
    [InlineData("""{"text":"ok","created_at":"2030-01-01T00:00:00Z"}""", "future")]
    [InlineData("""{"text":"ok","original_url":"javascript:alert(1)"}""", "original_url")]
    [InlineData("""{"text":"ok","reported_by":"someone else"}""", "reported_by")]
    [InlineData("""{"text":"ok\u0000"}""", "control")]
    [InlineData("""{"text":"ok" """, "JSON")]
    [InlineData("""[1,2]""", "object")]
    public async Task Bad_reports_get_400_with_a_reason_and_are_not_queued(string body, string reasonPart)
    {
        await using var store = new DashboardFakeStore();
        var intake = new ReportIntake { Time = new FixedTime(StreamStart) };
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0, Reports = intake }, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var res = await http.PostAsync("/api/reports", content);
        Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode);
        var error = (await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Contains(reasonPart, error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, intake.Queued);
        Assert.Equal(0, intake.LastNumber);
    }

    [Fact]
    public async Task Oversized_text_and_non_json_bodies_are_refused()
    {
        await using var store = new DashboardFakeStore();
        var intake = new ReportIntake();
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0, Reports = intake }, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };
        using var big = await http.PostAsJsonAsync("/api/reports", new { text = new string('a', ReportsEndpoints.MaxTextLength + 1) });
        Assert.Equal(HttpStatusCode.BadRequest, big.StatusCode);
        using var form = new StringContent("text=hello", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var notJson = await http.PostAsync("/api/reports", form);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        using var badId = await http.GetAsync("/api/reports/abc");
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        using var unknown = await http.GetAsync("/api/reports/99");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(0, intake.Queued);
    }

    [Fact]
    public async Task With_keys_analysts_report_viewers_may_not_and_only_the_reporter_or_an_admin_sees_a_report()
    {
        await using var store = new DashboardFakeStore();
        var intake = new ReportIntake();
        var keys = new[]
        {
            new DashboardApiKey("k-viewer-0123456789", "viewer-1", DashboardRole.Viewer),
            new DashboardApiKey("k-ngo-a-0123456789a", "ngo-a", DashboardRole.Analyst),
            new DashboardApiKey("k-ngo-b-0123456789b", "ngo-b", DashboardRole.Analyst),
            new DashboardApiKey("k-admin-0123456789x", "admin", DashboardRole.Admin),
        };
        await using var server = await DashboardServer.StartAsync(new DashboardOptions { Port = 0, ApiKeys = keys, Reports = intake }, store, NullDashboardLive.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Address };

        async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? key, object? body = null)
        {
            using var req = new HttpRequestMessage(method, path);
            if (key is not null) req.Headers.Add("X-Api-Key", key);
            if (body is not null) req.Content = JsonContent.Create(body);
            return await http.SendAsync(req);
        }

        using (var anon = await Send(HttpMethod.Post, "/api/reports", null, new { text = "x" })) Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
        using (var viewer = await Send(HttpMethod.Post, "/api/reports", "k-viewer-0123456789", new { text = "x" })) Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Equal(0, intake.Queued);

        using var ok = await Send(HttpMethod.Post, "/api/reports", "k-ngo-a-0123456789a", new { text = "a report", created_at = "2026-11-08T06:00:00Z" });
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        var url = (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status_url").GetString()!;
        Assert.Equal(1, intake.Queued);

        using (var mine = await Send(HttpMethod.Get, url, "k-ngo-a-0123456789a"))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
            var s = await mine.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("queued", s.GetProperty("status").GetString());
            Assert.Equal("ngo-a", s.GetProperty("reported_by").GetString());
            Assert.Equal(new DateTimeOffset(2026, 11, 8, 6, 0, 0, TimeSpan.Zero), s.GetProperty("created_at").GetDateTimeOffset());
        }
        using (var other = await Send(HttpMethod.Get, url, "k-ngo-b-0123456789b")) Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var admin = await Send(HttpMethod.Get, url, "k-admin-0123456789x")) Assert.Equal(HttpStatusCode.OK, admin.StatusCode);

        // The queued message is a valid post in the input format, marked with its reporter.
        using var cts = new CancellationTokenSource();
        RawMessage raw = default;
        await foreach (var m in new ReportSource(intake).ReadAsync(null, cts.Token))
        {
            raw = m;
            await cts.CancelAsync();
        }
        Assert.True(new PostDecoder(64 * 1024).TryDecode(raw.Bytes, out var decoded, out var reason), reason);
        Assert.Equal("report:1", decoded!.Id);
        Assert.Equal("ngo-a", decoded.ReportedBy);
        Assert.Equal("partner:ngo-a", decoded.AuthorId);
        Assert.Equal(new SourcePosition(ReportIntake.SourceName, 1), raw.Position);
    }

    [Fact]
    public async Task A_full_intake_answers_503_and_keeps_numbering_dense()
    {
        var intake = new ReportIntake(lastNumber: 7, capacity: 2);
        Assert.NotNull(intake.TrySubmit(new ReportRequest("a"), "p", out _));
        Assert.NotNull(intake.TrySubmit(new ReportRequest("b"), "p", out _));
        Assert.Null(intake.TrySubmit(new ReportRequest("c"), "p", out var error));
        Assert.Contains("retry", error, StringComparison.Ordinal);
        Assert.Equal(9, intake.LastNumber);
        var source = new ReportSource(intake);
        using var cts = new CancellationTokenSource();
        var offsets = new List<long>();
        await foreach (var m in source.ReadAsync(null, cts.Token))
        {
            offsets.Add(m.Position.Offset);
            if (offsets.Count == 2) await cts.CancelAsync();
        }
        Assert.Equal([8, 9], offsets);
        Assert.False(intake.IsOpen);
    }

    [Fact]
    public async Task The_until_end_cli_run_with_the_dashboard_up_still_ends_and_stores_every_line()
    {
        var dir = TestPaths.NewTempDir("ew-reports-cli");
        var replay = Path.Combine(dir, "in.jsonl");
        await File.WriteAllLinesAsync(replay, Enumerable.Range(1, 30).Select(i => Json(i)));
        var db = Path.Combine(dir, "ew.db");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(["run", "--source", "replay:" + replay, "--until-end", "--port", "0",
            "--store", "sqlite:" + db, "--data-dir", dir], cts.Token);
        Assert.True(rc == 0, stderr);
        Assert.False(cts.IsCancellationRequested, "the run did not end by itself");
        Assert.Contains("dashboard: http://127.0.0.1:", stdout, StringComparison.Ordinal);
        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        Assert.Equal(30, (await store.GetCountsAsync()).Posts);
    }

    private static string Json(int i) =>
        "{\"id\":\"t:" + i + "\",\"created_at\":\"" + StreamStart.AddMinutes(i).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) +
        "\",\"author\":{\"id\":\"u:" + (i % 7) + "\"},\"text\":\"polling station " + i + " is open\",\"geo\":{\"country\":\"KE\",\"region\":\"Nairobi\"}}";

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (!await condition())
        {
            cts.Token.ThrowIfCancellationRequested();
            await Task.Delay(50, cts.Token);
        }
    }

    /// <summary>A main source that yields its posts, then holds the stream open until released (a live feed).</summary>
    private sealed class GatedSource(int count) : IMessageSource
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Name => "gated:test";
        public bool IsFinite => true;
        public void Release() => _release.TrySetResult();

        public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
        {
            for (var i = 1; i <= count; i++)
                if (resumeAfter is null || i > resumeAfter) yield return new RawMessage(Encoding.UTF8.GetBytes(Json(i)), new SourcePosition(Name, i));
            await _release.Task.WaitAsync(ct);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
