using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Stores;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.Integration.Tests;

/// <summary>Stage state checkpoints travel to the store in pooled chunks (<see cref="StateBlob"/>).</summary>
public sealed class StateCheckpointTests
{
    [Fact]
    public async Task Checkpointed_state_is_stored_chunk_by_chunk_exactly_and_every_blob_is_released_after_its_write()
    {
        using var bed = await PipelineTestBed.CreateAsync("ew-state-blobs", seed: 5, posts: 20_000);
        await using var sqlite = new SqliteStore(Path.Combine(bed.Dir, "ew.db"));
        var store = new RecordingStore(sqlite);
        await store.InitializeAsync();
        // Checkpoints as often as the analysis allows, so several are encoded while posts keep flowing.
        var runner = bed.Runner(new PipelineOptions { StateCheckpointInterval = TimeSpan.FromMilliseconds(20), StateCheckpointMaxShare = 0 }, store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await runner.RunAsync(timeout.Token);

        var networkStates = store.Seen.Where(s => s.Key == "network").ToList();
        Assert.True(networkStates.Count >= 2, $"{networkStates.Count} network states stored");
        Assert.Contains(networkStates, s => s.Segments > 1); // the chunked write path ran
        // Every blob handed to the store was released once written (its chunks back in the pool).
        Assert.All(store.Seen, s => Assert.True(s.Blob.IsDisposed, $"{s.Key} state not released"));
        // What is stored is byte for byte what the store was given, and the last state is the engines' state now.
        Assert.Equal(networkStates[^1].Bytes, await sqlite.GetStateAsync("network"));
        Assert.Equal(bed.Network.SaveState(), await sqlite.GetStateAsync("network"));
        Assert.Equal(bed.Signals.SaveState(), await sqlite.GetStateAsync("signals"));
    }

    [Fact]
    public void Signals_state_written_into_a_blob_is_the_same_bytes_as_the_array()
    {
        var engine = new SignalEngine(new SignalOptions());
        using var blob = new StateBlob();
        engine.SaveState(blob);
        Assert.Equal(engine.SaveState(), blob.ToArray());
    }

    private static int Segments(StateBlob blob)
    {
        var n = 0;
        foreach (var _ in blob.Bytes) n++;
        return n;
    }

    private sealed record SeenState(string Key, StateBlob Blob, int Segments, byte[] Bytes);

    /// <summary>A store that notes every state blob it is given (and its bytes at that moment), then writes through.</summary>
    private sealed class RecordingStore(IPipelineStore inner) : DelegatingStore(inner)
    {
        public List<SeenState> Seen { get; } = [];

        public override Task WriteAsync(StoreBatch batch, CancellationToken ct = default)
        {
            lock (Seen)
                foreach (var (key, blob) in batch.State) Seen.Add(new SeenState(key, blob, Segments(blob), blob.ToArray()));
            return base.WriteAsync(batch, ct);
        }
    }
}
