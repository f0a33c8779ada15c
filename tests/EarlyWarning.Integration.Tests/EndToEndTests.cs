using System.Text;
using System.Text.Json;
using EarlyWarning.App;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>The walking skeleton's must-shows (issue 2), through the real CLI, in process.</summary>
public class EndToEndTests
{
    /// <summary>Issue 6: at most this many false alerts per region per simulated day.</summary>
    private const int MaxFalseAlertsPerRegionDay = 1;

    /// <summary>Issue 6: an alert within this many event-time minutes of each incident's onset.</summary>
    private static readonly TimeSpan MaxDetectionDelay = TimeSpan.FromMinutes(5);

    private readonly Xunit.Abstractions.ITestOutputHelper _log;

    public EndToEndTests(Xunit.Abstractions.ITestOutputHelper log) => _log = log;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Simulated_election_day_alerts_match_the_injected_incidents(int seed)
    {
        var dir = TestPaths.NewTempDir("ew-e2e");
        var db = Path.Combine(dir, "ew.db");
        var truthPath = Path.Combine(dir, "truth.json");
        var (rc, stdout, stderr) = await RunCliAsync("run", "--source", "simulate", "--seed", seed.ToString(), "--until-end", "--no-dashboard",
            "--store", "sqlite:" + db, "--truth", truthPath, "--data-dir", dir);
        Assert.True(rc == 0, $"exit {rc}: {stderr}");

        var truth = Truth.Load(truthPath);
        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        var alerts = await store.GetAlertsAsync(new AlertQuery(Limit: 100_000));
        var counts = await store.GetCountsAsync();
        Assert.Equal(truth.Posts, counts.Posts);

        foreach (var a in alerts)
            Assert.True(a.WindowEnd - a.WindowStart <= TimeSpan.FromMinutes(30), $"alert {a.Id} ({a.Kind}) window is {a.WindowEnd - a.WindowStart}");

        var matched = new HashSet<string>();
        var missing = new List<string>();
        foreach (var inc in truth.Incidents)
        {
            var hits = alerts.Where(a => Matches(inc, a)).ToList();
            if (hits.Count == 0)
                missing.Add($"incident {inc.Id} ({inc.Kind} {inc.ScopeText}, {inc.Onset:u}..{inc.End:u}) has no matching alert; " +
                    $"alerts of that kind: {string.Join("; ", alerts.Where(a => a.Kind == inc.Kind).Take(10).Select(a => $"{a.Scope} {a.WindowStart:u}"))}");
            foreach (var h in hits) matched.Add(h.Id);
            if (hits.Count == 0) continue;
            var delay = hits.Min(h => h.DetectedAt) - inc.Onset;
            _log.WriteLine($"seed {seed}: {inc.Kind} {inc.ScopeText} alerted {delay.TotalMinutes:0.0} min after onset ({hits.Count} alerts)");
            if (delay > MaxDetectionDelay)
                missing.Add($"incident {inc.Id} ({inc.Kind} {inc.ScopeText}) first alerted {delay.TotalMinutes:0.0} min after onset (limit {MaxDetectionDelay.TotalMinutes} min)");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing));

        // A false alert is one no injected incident explains: no incident overlaps it in time in its place (country;
        // region and target group where both name one), whatever the kind. A volume spike of hateful posts against the
        // campaign's target in the campaign's region during its waves is the campaign seen by another detector, not
        // a false alarm; it still counts towards the per-kind matching above only for its own kind.
        var unmatched = alerts.Where(a => !matched.Contains(a.Id)).ToList();
        var falseAlerts = unmatched.Where(a => !truth.Incidents.Any(inc => Explains(inc, a))).ToList();
        _log.WriteLine($"seed {seed}: {alerts.Count} alerts, {unmatched.Count} match no incident of their kind (" +
            string.Join("; ", unmatched.GroupBy(a => a.Kind).Select(g => $"{g.Key} {g.Count()}")) +
            $"), {falseAlerts.Count} explained by no incident at all");
        var crowded = falseAlerts
            .GroupBy(a => (a.Scope.Country, a.Scope.Region, Day: (int)Math.Floor((a.WindowStart - truth.Start).TotalDays)))
            .Where(g => g.Count() > MaxFalseAlertsPerRegionDay).ToList();
        Assert.True(crowded.Count == 0,
            "more than " + MaxFalseAlertsPerRegionDay + " false alert per region-day: " + string.Join("; ", crowded.Select(g =>
                $"{g.Key.Country}/{g.Key.Region} day {g.Key.Day}: " + string.Join(", ", g.Select(a => $"{a.Kind} {a.Scope} {a.WindowStart:u}")))));
    }

    private static bool Explains(Truth.Incident inc, Alert a) =>
        a.WindowStart <= inc.End && a.WindowEnd >= inc.Onset
        && (inc.Country is null || a.Scope.Country is null || inc.Country == a.Scope.Country)
        && (inc.Region is null || a.Scope.Region is null || inc.Region == a.Scope.Region)
        && (inc.TargetGroup is null || a.Scope.TargetGroup is null || inc.TargetGroup == a.Scope.TargetGroup);

    private static bool Matches(Truth.Incident inc, Alert a) =>
        a.Kind == inc.Kind
        && a.WindowStart <= inc.End && a.WindowEnd >= inc.Onset
        && (inc.Country is null || inc.Country == a.Scope.Country)
        && (inc.Region is null || inc.Region == a.Scope.Region)
        && (inc.TargetGroup is null || inc.TargetGroup == a.Scope.TargetGroup)
        && (inc.Term is null || inc.Term == a.Scope.Term);

    [Fact]
    public async Task Malformed_replay_lines_become_dead_letters_and_good_lines_are_stored()
    {
        var dir = TestPaths.NewTempDir("ew-dl");
        var replay = Path.Combine(dir, "in.jsonl");
        var good = Enumerable.Range(1, 50).Select(i =>
            "{\"id\":\"t:" + i + "\",\"created_at\":\"2026-11-08T06:" + (i % 60).ToString("00") + ":00Z\",\"author\":{\"id\":\"u:" + (i % 7) +
            "\"},\"text\":\"polling station " + i + " is open\",\"geo\":{\"country\":\"KE\",\"region\":\"Nairobi\"}}").ToList();
        using (var fs = File.Create(replay))
        {
            void Line(byte[] b) { fs.Write(b); fs.WriteByte((byte)'\n'); }
            for (var i = 0; i < good.Count; i++)
            {
                Line(Encoding.UTF8.GetBytes(good[i]));
                switch (i)
                {
                    case 3: Line("{\"id\":\"x\", this is not json"u8.ToArray()); break;
                    case 10: Line([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}']); break;
                    case 20: Line("""{"created_at":"2026-11-08T06:00:00Z","author":{"id":"u:1"},"text":"no id"}"""u8.ToArray()); break;
                    case 30: Line(Encoding.UTF8.GetBytes("{\"id\":\"big\",\"created_at\":\"2026-11-08T06:00:00Z\",\"author\":{\"id\":\"u:1\"},\"text\":\"" + new string('a', 70_000) + "\"}")); break;
                    case 40: Line("""{"id":"ts","created_at":"not a time","author":{"id":"u:1"},"text":"x"}"""u8.ToArray()); break;
                }
            }
        }
        var db = Path.Combine(dir, "ew.db");
        var (rc, _, stderr) = await RunCliAsync("run", "--source", "replay:" + replay, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", dir);
        Assert.True(rc == 0, stderr);

        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        var dead = await store.GetDeadLettersAsync(100);
        Assert.Equal(["invalid_json", "invalid_utf8", "missing_field:id", "too_large", "bad_timestamp"], dead.OrderBy(d => d.Offset).Select(d => d.Reason));
        // Stored sealed (they were never pseudonymised); the key ring in the data folder opens them to the original bytes.
        var cipher = new DeadLetterCipher(new PseudonymKeyRing(dir));
        Assert.All(dead, d => Assert.True(DeadLetterCipher.IsSealed(d.Bytes), $"dead letter at offset {d.Offset} is stored in the clear"));
        Assert.All(dead, d => Assert.NotEmpty(OpenDeadLetter(cipher, d)));
        Assert.Equal(new byte[] { (byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}' }, OpenDeadLetter(cipher, dead.Single(d => d.Reason == "invalid_utf8")));
        Assert.Equal("{\"id\":\"x\", this is not json"u8.ToArray(), OpenDeadLetter(cipher, dead.Single(d => d.Reason == "invalid_json")));
        Assert.Equal(50, (await store.GetCountsAsync()).Posts);
        for (var i = 1; i <= 50; i++) Assert.NotNull(await store.GetPostAsync($"t:{i}"));
    }

    private static byte[] OpenDeadLetter(DeadLetterCipher cipher, StoredDeadLetter d)
    {
        Assert.True(cipher.TryOpen(d.Bytes, out var plain, out var error), error);
        return plain;
    }

    private const string DeadLetterRawId = "u:90210777";
    private const string DeadLetterRawHandle = "raw_handle_dl42";

    /// <summary>
    /// 20 good posts by one account and three undecodable lines naming the same account (invalid JSON, a missing
    /// field, invalid UTF-8 around the id): the good ones are pseudonymised, the bad ones keep the raw id.
    /// </summary>
    private static void WriteReplayWithRawIdsInDeadLetters(string replay)
    {
        const string rawId = DeadLetterRawId;
        const string rawHandle = DeadLetterRawHandle;
        var lines = Enumerable.Range(1, 20).Select(i =>
            "{\"id\":\"t:" + i + "\",\"created_at\":\"2026-11-08T06:" + i.ToString("00") + ":00Z\",\"author\":{\"id\":\"" + rawId + "\",\"handle\":\"" + rawHandle +
            "\"},\"text\":\"polling station " + i + " is open\",\"geo\":{\"country\":\"KE\",\"region\":\"Nairobi\"}}").ToList();
        lines.Insert(5, "{\"id\":\"d1\",\"author\":{\"id\":\"" + rawId + "\",\"handle\":\"" + rawHandle + "\"}, broken");
        lines.Insert(9, "{\"created_at\":\"2026-11-08T06:00:00Z\",\"author\":{\"id\":\"" + rawId + "\"},\"text\":\"no id, mentions @" + rawHandle + "\"}");
        using var fs = File.Create(replay);
        foreach (var l in lines) { fs.Write(Encoding.UTF8.GetBytes(l)); fs.WriteByte((byte)'\n'); }
        fs.Write("{\"id\":\"d3\",\"author\":{\"id\":\""u8);
        fs.Write(Encoding.UTF8.GetBytes(rawId));
        fs.Write([0xFF, (byte)'"', (byte)'}', (byte)'}', (byte)'\n']);
    }

    private static void AssertNoDeadLetterRawIds(byte[] bytes, string what)
    {
        foreach (var needle in new[] { DeadLetterRawId, DeadLetterRawHandle, "90210777" })
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) < 0, $"{what} holds a raw identifier from a dead letter");
    }

    [Fact]
    public async Task A_dead_letter_holding_a_raw_account_id_leaves_no_trace_of_it_in_the_sqlite_file()
    {
        const string rawId = DeadLetterRawId;
        var dir = TestPaths.NewTempDir("ew-dl-scan");
        var replay = Path.Combine(dir, "in.jsonl");
        WriteReplayWithRawIdsInDeadLetters(replay);
        var db = Path.Combine(dir, "ew.db");
        var (rc, _, stderr) = await RunCliAsync("run", "--source", "replay:" + replay, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", dir);
        Assert.True(rc == 0, stderr);

        var cipher = new DeadLetterCipher(new PseudonymKeyRing(dir));
        await using (var store = new SqliteStore(db))
        {
            await store.InitializeAsync();
            Assert.Equal(20, (await store.GetCountsAsync()).Posts);
            var dead = await store.GetDeadLettersAsync(100);
            Assert.Equal(3, dead.Count);
            // The letters really hold the raw id (so the scan below is meaningful) once opened with the key.
            Assert.All(dead, d => Assert.True(OpenDeadLetter(cipher, d).AsSpan().IndexOf(Encoding.UTF8.GetBytes(rawId)) >= 0));
        }

        var files = new[] { db, db + "-wal", db + "-journal" }.Where(File.Exists).ToList();
        Assert.Contains(db, files);
        foreach (var f in files) AssertNoDeadLetterRawIds(await File.ReadAllBytesAsync(f), Path.GetFileName(f));
    }

    [Fact]
    public async Task A_dead_letter_holding_a_raw_account_id_is_sent_to_elasticsearch_only_as_ciphertext()
    {
        var dir = TestPaths.NewTempDir("ew-dl-es");
        var replay = Path.Combine(dir, "in.jsonl");
        WriteReplayWithRawIdsInDeadLetters(replay);
        using var es = EarlyWarning.Storage.Tests.ElasticsearchFake.Start();
        var (rc, _, stderr) = await RunCliAsync("run", "--source", "replay:" + replay, "--until-end", "--no-dashboard",
            "--store", "elasticsearch:" + es.Url, "--data-dir", dir);
        Assert.True(rc == 0, stderr);
        Assert.Empty(es.Violations);

        var bodies = es.RequestBodies.ToList();
        var deadLetterBodies = bodies.Where(b => b.AsSpan().IndexOf("invalid_json"u8) >= 0).ToList();
        Assert.NotEmpty(deadLetterBodies);
        foreach (var body in bodies) AssertNoDeadLetterRawIds(body, "an Elasticsearch request body");

        // What Elasticsearch holds opens, with the data folder's key ring, to the original bytes.
        await using var store = new EarlyWarning.Storage.Elasticsearch.ElasticsearchStore(new EarlyWarning.Storage.Elasticsearch.ElasticsearchOptions { Url = es.Url });
        await store.InitializeAsync();
        var dead = await store.GetDeadLettersAsync(100);
        Assert.Equal(3, dead.Count);
        var cipher = new DeadLetterCipher(new PseudonymKeyRing(dir));
        Assert.All(dead, d => Assert.True(OpenDeadLetter(cipher, d).AsSpan().IndexOf(Encoding.UTF8.GetBytes(DeadLetterRawId)) >= 0));
    }

    [Fact]
    public async Task A_stopped_replay_resumes_after_the_last_stored_line_without_duplicates()
    {
        var dir = TestPaths.NewTempDir("ew-resume");
        var replay = Path.Combine(dir, "in.jsonl");
        var sim = Path.Combine(dir, "sim.jsonl");
        var (rc0, _, err0) = await RunCliAsync("simulate", "--scenario", "election-day", "--seed", "3", "--posts", "50000", "--out", sim);
        Assert.True(rc0 == 0, err0);
        var lines = File.ReadAllLines(sim).Take(20_000).ToList();
        lines.Insert(5_000, "{broken");
        File.WriteAllLines(replay, lines);
        var db = Path.Combine(dir, "ew.db");

        // First run: stopped by cancellation once part of the stream has been read.
        using (var cts = new CancellationTokenSource())
        {
            var run = RunCliAsync(["run", "--source", "replay:" + replay, "--speed", "20000", "--no-dashboard", "--until-end", "--store", "sqlite:" + db, "--data-dir", dir], cts.Token);
            await WaitForAsync(async () =>
            {
                if (!File.Exists(db)) return false;
                await using var s = new SqliteStore(db);
                await s.InitializeAsync();
                return (await s.GetCountsAsync()).Posts > 2_000;
            }, TimeSpan.FromSeconds(60));
            cts.Cancel();
            var (rc1, _, err1) = await run;
            Assert.True(rc1 == 0, err1);
        }
        long firstPosts;
        long? firstCheckpoint;
        await using (var s = new SqliteStore(db))
        {
            await s.InitializeAsync();
            firstPosts = (await s.GetCountsAsync()).Posts;
            firstCheckpoint = await s.GetCheckpointAsync("replay:" + Path.GetFullPath(replay));
        }
        Assert.InRange(firstPosts, 1, lines.Count - 2);
        Assert.NotNull(firstCheckpoint);

        // Second run on the same store: resumes and finishes.
        var (rc2, out2, err2) = await RunCliAsync("run", "--source", "replay:" + replay, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", dir);
        Assert.True(rc2 == 0, err2);
        Assert.Contains($"after offset {firstCheckpoint}", out2);
        await using var store = new SqliteStore(db);
        await store.InitializeAsync();
        var counts = await store.GetCountsAsync();
        Assert.Equal(lines.Count - 1, counts.Posts);
        Assert.Equal(1, counts.DeadLetters);
        Assert.Equal(lines.Count, await store.GetCheckpointAsync("replay:" + Path.GetFullPath(replay)));
        // "Resumes after the last stored line": the second run read only what the first had not stored.
        Assert.Contains($"read {lines.Count - firstCheckpoint!.Value},", out2);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try { if (await condition()) return; }
            catch (Microsoft.Data.Sqlite.SqliteException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException("condition not met in " + timeout);
    }

    internal static Task<(int Rc, string Out, string Err)> RunCliAsync(params string[] args) => RunCliAsync(args, CancellationToken.None);

    internal static async Task<(int Rc, string Out, string Err)> RunCliAsync(string[] args, CancellationToken ct)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var rc = await Cli.RunAsync(args, TextWriter.Synchronized(o), TextWriter.Synchronized(e), TextReader.Null, ct);
        return (rc, o.ToString(), e.ToString());
    }
}

/// <summary>The simulator's ground truth as the tests read it (ARCHITECTURE.md, "Ground truth").</summary>
internal sealed record Truth(long Posts, DateTimeOffset Start, DateTimeOffset End, List<Truth.Incident> Incidents)
{
    internal sealed record Incident(string Id, string Kind, string? Country, string? Region, string? TargetGroup, string? Language, string? Term,
        DateTimeOffset Onset, DateTimeOffset End, List<string> Accounts, List<string> PostIds)
    {
        public string ScopeText => $"{Country}/{Region}/{TargetGroup}/{Term}";
    }

    public static Truth Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var r = doc.RootElement;
        var incidents = new List<Incident>();
        foreach (var i in r.GetProperty("incidents").EnumerateArray())
        {
            var s = i.GetProperty("scope");
            string? Str(string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            List<string> List(string name) => i.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
                ? v.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
            incidents.Add(new Incident(i.GetProperty("id").GetString()!, i.GetProperty("kind").GetString()!,
                Str("country"), Str("region"), Str("target_group"), Str("language"), Str("term"),
                i.GetProperty("onset").GetDateTimeOffset(), i.GetProperty("end").GetDateTimeOffset(), List("accounts"), List("post_ids")));
        }
        return new Truth(r.GetProperty("posts").GetInt64(), r.GetProperty("start").GetDateTimeOffset(), r.GetProperty("end").GetDateTimeOffset(), incidents);
    }
}
