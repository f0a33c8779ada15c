using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Elasticsearch;
using static EarlyWarning.Storage.Tests.ElasticsearchTestSupport;

namespace EarlyWarning.Storage.Tests;

/// <summary>
/// Contract tests of the Elasticsearch store against the in-process fake: partial bulk failures, 429 storms, 503s,
/// bounded request sizes, optimistic concurrency, templates and setup. Every test also requires that the fake found
/// nothing wrong with any request body.
/// </summary>
public sealed class ElasticsearchStoreTests : IDisposable
{
    private readonly ElasticsearchFake _fake = ElasticsearchFake.Start();

    public void Dispose()
    {
        _fake.Dispose();
        Assert.Empty(_fake.Violations);
    }

    private static StoreBatch Batch(int count, string source = "test:src", Func<int, PostEnvelope>? make = null)
    {
        var b = new StoreBatch();
        for (var i = 0; i < count; i++) b.Posts.Add(make?.Invoke(i) ?? Post(i, source: source));
        b.Checkpoints[source] = count - 1;
        return b;
    }

    private static FakeItemFault Rejected429 => new(429, "es_rejected_execution_exception", "rejected execution of coordinating operation");

    [Fact]
    public async Task A_bulk_with_failed_items_retries_transient_ones_and_dead_letters_the_mapping_error()
    {
        await using var store = await OpenAsync(Options(_fake.Url));
        _fake.ItemFaults = item => item.Id switch
        {
            "t:5" when item.Attempt <= 2 => Rejected429,
            "t:6" when item.Attempt == 1 => new FakeItemFault(503, "unavailable_shards_exception", "primary shard is not active"),
            "t:7" => new FakeItemFault(400, "mapper_parsing_exception", "failed to parse field [text] of type [text]"),
            _ => null,
        };
        await store.WriteAsync(Batch(200));

        var posts = _fake.Documents(store.PostsPattern);
        var index = store.PostIndex(T0);
        Assert.Equal(199, posts.Count);
        Assert.DoesNotContain(index + "/t:7", posts.Keys);
        for (var i = 0; i < 200; i++)
        {
            if (i == 7) continue;
            Assert.Equal(1, _fake.AppliedCount(index, "t:" + i)); // stored once; nothing re-sent after it succeeded
        }
        Assert.Equal(3, _fake.AttemptCount(index, "t:5"));
        Assert.Equal(2, _fake.AttemptCount(index, "t:6"));
        Assert.Equal(1, _fake.AttemptCount(index, "t:7")); // a mapping error is never retried

        var letter = Assert.Single(await store.GetDeadLettersAsync(10));
        Assert.Equal(("test:src", 7L), (letter.Source, letter.Offset));
        Assert.Equal("store_rejected:mapper_parsing_exception", letter.Reason);
        using (var refused = JsonDocument.Parse(letter.Bytes)) Assert.Equal("t:7", refused.RootElement.GetProperty("id").GetString());
        Assert.Equal(199, await store.GetCheckpointAsync("test:src"));
        Assert.Equal((3L, 1L), (store.Stats.ItemRetries, store.Stats.Rejected));
        Assert.Equal(new StoreCounts(199, 40, 0, 1, 0), await store.GetCountsAsync());

        // Replaying the batch once the cluster behaves: the refused post now lands, nothing is doubled.
        _fake.ItemFaults = null;
        await store.WriteAsync(Batch(200));
        Assert.Equal(new StoreCounts(200, 40, 0, 1, 0), await store.GetCountsAsync());
    }

    [Theory]
    [InlineData(429, 5)]
    [InlineData(503, 3)]
    [InlineData(502, 1)]
    public async Task Whole_request_failures_are_retried_until_the_cluster_answers(int status, int failures)
    {
        await using var store = await OpenAsync(Options(_fake.Url));
        _fake.FailNextRequests("/_bulk", failures, status);
        await store.WriteAsync(Batch(50));

        Assert.Equal(50, _fake.Documents(store.PostsPattern).Count);
        Assert.Equal(failures, store.Stats.RequestRetries);
        Assert.Equal(failures + 2, store.Stats.BulkRequests); // the data request (retried) and the checkpoint request
        Assert.Equal(2, _fake.BulkRequests.Count);
        Assert.Equal(49, await store.GetCheckpointAsync("test:src"));
    }

    [Fact]
    public async Task Items_that_keep_failing_fail_the_write_and_the_checkpoint_stays_behind()
    {
        await using var store = await OpenAsync(Options(_fake.Url, maxAttempts: 4));
        _fake.ItemFaults = item => item.Id == "t:3" ? Rejected429 : null;

        var e = await Assert.ThrowsAsync<ElasticsearchBulkException>(() => store.WriteAsync(Batch(20)));
        Assert.Equal(1, e.FailedItems);
        Assert.Equal(429, e.Status);
        Assert.Contains("es_rejected_execution_exception", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, _fake.AttemptCount(store.PostIndex(T0), "t:3"));
        Assert.Null(await store.GetCheckpointAsync("test:src")); // at-least-once: the source will replay this batch
        Assert.Equal(19, _fake.Documents(store.PostsPattern).Count);
    }

    [Fact]
    public async Task A_429_storm_longer_than_the_attempts_fails_the_write_with_the_reason()
    {
        await using var store = await OpenAsync(Options(_fake.Url, maxAttempts: 3));
        _fake.FailNextRequests("/_bulk", 10, 429);
        var e = await Assert.ThrowsAsync<ElasticsearchBulkException>(() => store.WriteAsync(Batch(5)));
        Assert.Contains("HTTP 429", e.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetCheckpointAsync("test:src"));
        Assert.Empty(_fake.Documents(store.PostsPattern));
    }

    [Fact]
    public async Task Bulk_requests_stay_under_the_byte_limit_and_an_oversized_document_travels_alone()
    {
        const int limit = 16 * 1024;
        await using var store = await OpenAsync(Options(_fake.Url, maxBulkBytes: limit));
        var batch = Batch(1000, make: i => i == 500 ? Post(i, text: string.Join(' ', Enumerable.Repeat("harvest", 5000))) : Post(i));
        await store.WriteAsync(batch);

        var requests = _fake.BulkRequests;
        Assert.True(requests.Count >= 30, $"only {requests.Count} bulk requests");
        var oversized = Assert.Single(requests, r => r.Bytes > limit);
        Assert.Equal(1, oversized.Items);
        Assert.All(requests.Where(r => r != oversized), r => Assert.True(r.Bytes <= limit, $"{r.Bytes} bytes"));
        Assert.Equal(1001, requests.Sum(r => r.Items)); // 1000 posts and one checkpoint, each sent once
        Assert.Equal(1000, _fake.Documents(store.PostsPattern).Count);
        Assert.Equal(store.Stats.MaxBulkRequestBytes, requests.Max(r => r.Bytes));
    }

    [Fact]
    public async Task Concurrent_status_updates_lose_no_audit_entry()
    {
        await using var store = await OpenAsync(Options(_fake.Url));
        var scope = new Scope("MM", "Rakhine", "journalists", "en", null);
        var alert = new Alert
        {
            Id = Alert.MakeId(AlertKinds.VolumeSpike, scope, T0),
            Kind = AlertKinds.VolumeSpike,
            Severity = Severity.High,
            WindowStart = T0,
            WindowEnd = T0.AddMinutes(5),
            Scope = scope,
            Explanation = "Volume rose.",
        };
        var b = new StoreBatch();
        b.Alerts.Add(alert);
        await store.WriteAsync(b);

        var actors = Enumerable.Range(0, 12).Select(i => "analyst-" + i).ToArray();
        var results = await Task.WhenAll(actors.Select(a => Task.Run(() => store.UpdateAlertStatusAsync(alert.Id, AlertStatus.Acknowledged, a, null))));
        Assert.All(results, Assert.True);
        var stored = await store.GetAlertAsync(alert.Id);
        Assert.NotNull(stored);
        Assert.Equal(actors.Order(), stored.Audit.Select(x => x.Actor).Order());
    }

    [Fact]
    public async Task Posts_go_to_monthly_indices_and_keep_unknown_fields_geo_and_odd_originals()
    {
        await using var store = await OpenAsync(Options(_fake.Url));
        var dec = new DateTimeOffset(2026, 12, 1, 0, 0, 1, TimeSpan.Zero);
        var b = new StoreBatch();
        b.Posts.Add(Post(1, raw: "{\"id\":\"t:1\",\"geo\":{\"country\":\"MM\",\"region\":\"Rakhine\",\"lat\":20.15,\"lon\":92.9},\"x_custom\":[1,2]}"));
        b.Posts.Add(Post(2, raw: "{\n  \"id\": \"t:2\",\n  \"note\": \"pretty\"\n}", createdAt: dec));
        b.Posts.Add(Post(3, raw: "{not json"));
        var nan = Post(4);
        nan.Decision!.Incitement = float.NaN;
        b.Posts.Add(nan);
        await store.WriteAsync(b);

        Assert.Contains("earlywarning-posts-2026.11", _fake.IndexNames);
        Assert.Contains("earlywarning-posts-2026.12", _fake.IndexNames);
        var docs = _fake.Documents(store.PostsPattern);
        var first = docs["earlywarning-posts-2026.11/t:1"];
        Assert.Equal(20.15, first["geo"]!["location"]!["lat"]!.GetValue<double>());
        Assert.Equal(2, first["raw"]!["x_custom"]!.AsArray().Count);
        Assert.Equal("pretty", docs["earlywarning-posts-2026.12/t:2"]["raw"]!["note"]!.GetValue<string>());
        Assert.Null(docs["earlywarning-posts-2026.11/t:3"]["raw"]);
        Assert.Null(docs["earlywarning-posts-2026.11/t:3"]["geo"]);
        Assert.Equal(dec, (await store.GetPostAsync("t:2"))!.CreatedAt);
        Assert.Equal(0f, (await store.GetPostAsync("t:4"))!.Incitement);
        Assert.Equal(4, (await store.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Initialize_installs_the_policy_and_strict_templates_from_the_dashboards_folder()
    {
        await using var store = await OpenAsync(Options(_fake.Url, prefix: "ewtest"));
        await store.InitializeAsync(); // again: must be harmless

        Assert.Equal(["ewtest-retention"], _fake.PolicyNames);
        Assert.Equal(ElasticsearchAssets.Kinds.Select(k => "ewtest-" + k).Order(), _fake.TemplateNames.Order());
        var posts = _fake.Template("ewtest-posts")!;
        Assert.Equal("ewtest-posts-*", posts["index_patterns"]![0]!.GetValue<string>());
        Assert.Equal("ewtest-retention", posts["template"]!["settings"]!["index.lifecycle.name"]!.GetValue<string>());
        Assert.Equal("geo_point", posts["template"]!["mappings"]!["properties"]!["geo"]!["properties"]!["location"]!["type"]!.GetValue<string>());
        Assert.Equal(["ewtest-aggregates", "ewtest-alerts", "ewtest-deadletters", "ewtest-feedback", "ewtest-state"], _fake.IndexNames);

        await store.WriteAsync(Batch(3));
        Assert.Contains("ewtest-posts-2026.11", _fake.IndexNames);
        Assert.Equal(2, await store.GetCheckpointAsync("test:src"));
    }

    [Fact]
    public async Task Setup_installs_templates_and_imports_the_kibana_objects()
    {
        var options = Options(_fake.Url);
        var result = await ElasticsearchSetup.InstallAsync(options, kibana: _fake.Url);

        var lines = File.ReadAllLines(Path.Combine(AssetsDirectory, "..", "kibana", "election-monitoring.ndjson")).Count(l => l.Length > 0);
        Assert.Equal(lines, result.KibanaObjects);
        Assert.Equal(1, _fake.KibanaImports);
        Assert.Equal(lines, _fake.KibanaObjects.Count);
        Assert.Contains(_fake.KibanaObjects.Keys, k => k.StartsWith("dashboard/", StringComparison.Ordinal));
        Assert.Equal("earlywarning-retention", result.Policy);
        Assert.Equal(6, result.Templates.Count);
        Assert.Equal(5, result.CreatedIndices.Count);

        var again = await ElasticsearchSetup.InstallAsync(options, kibana: null);
        Assert.Empty(again.CreatedIndices);
        Assert.Equal(0, again.KibanaObjects);
    }

    [Fact]
    public async Task A_refusing_kibana_import_is_reported_not_swallowed()
    {
        var dir = EarlyWarning.Tests.TestPaths.NewTempDir("ew-kibana");
        try
        {
            var path = Path.Combine(dir, "broken.ndjson");
            await File.WriteAllTextAsync(path, "{\"type\":\"visualization\",\"id\":\"v1\",\"attributes\":{\"title\":\"x\"},\"references\":[{\"name\":\"r\",\"type\":\"index-pattern\",\"id\":\"missing\"}]}\n");
            var e = await Assert.ThrowsAsync<ElasticsearchException>(() => ElasticsearchSetup.ImportKibanaObjectsAsync(_fake.Url, path));
            Assert.Contains("missing_references", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Every_bulk_body_is_ndjson_with_explicit_ids_and_the_alert_upsert_is_partial()
    {
        // The fake checks bodies on arrival; here one more look at what a mixed batch sends.
        var seen = new List<FakeBulkItem>();
        _fake.ItemFaults = item =>
        {
            lock (seen) seen.Add(item);
            return null;
        };
        await using var store = await OpenAsync(Options(_fake.Url));
        var b = Batch(3);
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("test:src", 99), DeadLetterReasons.InvalidJson, Encoding.UTF8.GetBytes("{{"), T0));
        var scope = new Scope("KE", "Nairobi", null, "sw", null);
        b.Alerts.Add(new Alert
        {
            Id = Alert.MakeId(AlertKinds.Incitement, scope, T0),
            Kind = AlertKinds.Incitement,
            Severity = Severity.Critical,
            WindowStart = T0,
            WindowEnd = T0.AddMinutes(5),
            Scope = scope,
            Explanation = "An influential account called for violence.",
            Score = double.NaN,
        });
        b.Aggregates.Add(new SeriesPoint(T0, "KE", "Nairobi", "journalists", Labels.Hate, 4));
        b.State["graph"] = new byte[] { 1, 2 };
        await store.WriteAsync(b);

        Assert.Equal(["index", "index", "index", "create", "update", "index", "index", "index"], seen.Select(s => s.Action));
        Assert.All(seen, s => Assert.False(string.IsNullOrEmpty(s.Id)));
        var alert = Assert.Single(_fake.Documents(store.AlertsIndex)).Value;
        Assert.Equal("new", alert["status"]!.GetValue<string>());
        Assert.Equal(0, alert["score"]!.GetValue<double>()); // NaN is not JSON; it is stored as 0 rather than failing the batch
    }
}
