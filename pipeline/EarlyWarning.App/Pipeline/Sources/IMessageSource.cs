using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>A source of raw messages with monotonically increasing offsets, able to resume after a checkpoint.</summary>
public interface IMessageSource
{
    /// <summary>Stable name used as the checkpoint key (e.g. <c>replay:/abs/path.jsonl</c>).</summary>
    string Name { get; }

    /// <summary>True when the source ends by itself (replay file, simulator scenario).</summary>
    bool IsFinite { get; }

    /// <summary>Reads messages with offsets greater than <paramref name="resumeAfter"/> until the end or cancellation.</summary>
    IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, CancellationToken ct);

    /// <summary>
    /// Called once before <see cref="ReadAsync"/> with the offsets (source name → last offset) that the restored stage
    /// state reflects, empty when there is no state (start from the beginning). Returns the <c>resumeAfter</c> to read
    /// with; sources with several positions (Kafka partitions) seek each one themselves and return null.
    /// </summary>
    long? ResumeFrom(IReadOnlyDictionary<string, long> stateOffsets) => stateOffsets.TryGetValue(Name, out var o) ? o : null;

    /// <summary>
    /// Called after a store transaction holding everything up to these offsets (per source name) is durable.
    /// Sources that commit upstream (Kafka) commit here; file and simulator sources rely on the store's checkpoint.
    /// </summary>
    void Acknowledge(IReadOnlyDictionary<string, long> checkpoints) { }

    /// <summary>
    /// Consumer lag per position (source name → messages at the source not yet acknowledged as stored): Kafka reports
    /// each partition's high watermark minus its acknowledged offset. Empty when the source cannot tell (a file, the
    /// simulator). Called by the metrics' scrape, from any thread.
    /// </summary>
    IEnumerable<KeyValuePair<string, long>> Lag() => [];
}
