using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.Integration.Tests;

public sealed class PipelineFailureTests
{
    [Fact]
    public async Task A_store_that_fails_a_write_ends_the_run_with_its_error_instead_of_hanging_every_stage()
    {
        using var bed = await PipelineTestBed.CreateAsync("ew-store-fails", seed: 6, posts: 20_000);
        await using var sqlite = new SqliteStore(Path.Combine(bed.Dir, "ew.db"));
        var store = new FailingStore(sqlite, failWrite: 3);
        await store.InitializeAsync();
        // Small batches and channels: the stream is far from read when the store fails, so every stage is blocked on
        // a full channel at that moment.
        var runner = bed.Runner(new PipelineOptions { BatchSize = 64, RawChannelCapacity = 64, StoreBatchPosts = 64 }, store);
        var run = runner.RunAsync(CancellationToken.None);
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(ReferenceEquals(finished, run), "the run hung after its store failed");
        var ex = await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal("disk full (test)", ex.Message);
        Assert.Equal("failed", runner.Status.State);
        Assert.True(runner.Status.Read < 20_000, $"read {runner.Status.Read}: the source kept reading after the failure");
    }

    /// <summary>Throws on the <c>failWrite</c>th write (1-based) instead of storing it.</summary>
    private sealed class FailingStore(IPipelineStore inner, int failWrite) : DelegatingStore(inner)
    {
        private int _writes;

        public override Task WriteAsync(StoreBatch batch, CancellationToken ct = default) =>
            Interlocked.Increment(ref _writes) == failWrite ? throw new IOException("disk full (test)") : base.WriteAsync(batch, ct);
    }
}
