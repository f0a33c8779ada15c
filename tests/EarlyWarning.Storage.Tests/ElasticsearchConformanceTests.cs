using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Elasticsearch;

namespace EarlyWarning.Storage.Tests;

/// <summary>
/// The store conformance suite on <see cref="ElasticsearchStore"/> against the in-process fake; every request the suite
/// causes is checked by the fake (NDJSON, ids, strict mappings), and each test ends with no violation recorded.
/// </summary>
public sealed class ElasticsearchConformanceTests : StoreConformanceTests, IDisposable
{
    private readonly List<ElasticsearchFake> _fakes = [];

    // Elasticsearch has no multi-document transaction: a reader may see part of a batch.
    protected override bool AtomicBatches => false;

    protected override async Task<IPipelineStore> CreateStoreAsync()
    {
        var fake = ElasticsearchFake.Start();
        _fakes.Add(fake);
        return await ElasticsearchTestSupport.OpenAsync(ElasticsearchTestSupport.Options(fake.Url));
    }

    protected override async Task<IPipelineStore> ReopenAsync(IPipelineStore store)
    {
        var options = ((ElasticsearchStore)store).Options;
        await store.DisposeAsync();
        return await ElasticsearchTestSupport.OpenAsync(options);
    }

    public void Dispose()
    {
        foreach (var f in _fakes) f.Dispose();
        Assert.All(_fakes, f => Assert.Empty(f.Violations));
    }
}
