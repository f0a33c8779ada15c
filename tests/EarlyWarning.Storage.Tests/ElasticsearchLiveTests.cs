using System.Text.Json;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Elasticsearch;

namespace EarlyWarning.Storage.Tests;

/// <summary>
/// The conformance suite against a real Elasticsearch at <c>EARLYWARNING_ES_URL</c>, each store under its own index
/// prefix, removed afterwards. Excluded from CI (<c>--filter Category!=Live</c>); run with
/// <c>EARLYWARNING_ES_URL=http://127.0.0.1:9200 dotnet test --filter Category=Live</c>. Without the variable the tests
/// fail rather than pass: a live test that did not run must never count as passed.
/// </summary>
[Trait("Category", "Live")]
public sealed class ElasticsearchLiveTests : StoreConformanceTests, IAsyncLifetime
{
    private readonly List<ElasticsearchOptions> _created = [];

    protected override bool AtomicBatches => false;

    private static Uri Url => Environment.GetEnvironmentVariable("EARLYWARNING_ES_URL") is { Length: > 0 } u
        ? new Uri(u)
        : throw new InvalidOperationException("Live Elasticsearch tests need EARLYWARNING_ES_URL (CI excludes them with --filter Category!=Live).");

    protected override async Task<IPipelineStore> CreateStoreAsync()
    {
        var options = new ElasticsearchOptions
        {
            Url = Url,
            IndexPrefix = "ewlive-" + Guid.NewGuid().ToString("N")[..12],
            AssetsDirectory = ElasticsearchTestSupport.AssetsDirectory,
        };
        _created.Add(options);
        return await ElasticsearchTestSupport.OpenAsync(options);
    }

    protected override async Task<IPipelineStore> ReopenAsync(IPipelineStore store)
    {
        var options = ((ElasticsearchStore)store).Options;
        await store.DisposeAsync();
        return await ElasticsearchTestSupport.OpenAsync(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var o in _created)
        {
            using var client = new ElasticsearchClient(o.Url);
            // Clusters refuse wildcard deletes by default (action.destructive_requires_name), so list the names first.
            using var cat = await client.SendAsync(HttpMethod.Get, $"_cat/indices/{o.IndexPrefix}-*?format=json&h=index");
            if (cat.IsSuccess && cat.Body?.RootElement.ValueKind == JsonValueKind.Array)
            {
                var names = cat.Body.RootElement.EnumerateArray().Select(e => e.GetProperty("index").GetString()).ToList();
                if (names.Count > 0) await client.DeleteIndexAsync(string.Join(',', names));
            }
            foreach (var kind in ElasticsearchAssets.Kinds)
                (await client.SendAsync(HttpMethod.Delete, $"_index_template/{o.IndexPrefix}-{kind}")).Dispose();
            (await client.SendAsync(HttpMethod.Delete, $"_ilm/policy/{o.IndexPrefix}-retention")).Dispose();
        }
    }
}
