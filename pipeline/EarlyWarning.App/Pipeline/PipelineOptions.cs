namespace EarlyWarning.App.Pipeline;

/// <summary>Which posts a store keeps (DESIGN.md: <c>--store-posts all|flagged</c>).</summary>
public enum StorePostsMode { All, Flagged }

/// <summary>Tuning knobs of the running pipeline; defaults suit a laptop.</summary>
public sealed class PipelineOptions
{
    /// <summary>
    /// Largest number of posts that travel between stages as one batch. At full speed about six batches are in flight
    /// (one being filled, one in each channel, one in each stage) besides the raw channel, so this sets most of the
    /// read→stored latency: on the 1M-post stream, 256 with a 512-message raw channel gave p50 106–121 ms and p99
    /// 755–807 ms against 239–293 ms and 1,058–1,212 ms for 512 and 1,024, at the same throughput within the machine's
    /// noise (12.2k–12.8k against 10.7k–13.0k posts/s; BENCHMARKS.md, run 8). ONNX runs 64 rows at a time in any case.
    /// </summary>
    public int BatchSize { get; init; } = 256;
    /// <summary>
    /// Capacity of the raw-message channel (messages). Every post waiting in a channel adds to read→stored latency when
    /// the pipeline runs flat out, and deep channels buy no throughput here: on the 1M-post stream, 1,024 raw messages
    /// and one batch per channel gave 5,745 posts/s with p50 0.41 s / p99 2.9 s, against 5,019 posts/s with p50 1.06 s /
    /// p99 4.1 s for 8,192 and four batches (BENCHMARKS.md, run 4); halved again with the batch size in run 8.
    /// </summary>
    public int RawChannelCapacity { get; init; } = 512;
    /// <summary>Batches each channel between the stages holds (each stage also works on one batch of its own).</summary>
    public int BatchChannelCapacity { get; init; } = 1;
    /// <summary>Largest number of posts written in one store transaction (several batches are coalesced).</summary>
    public int StoreBatchPosts { get; init; } = 5000;
    public StorePostsMode StorePosts { get; init; } = StorePostsMode.All;
    public int MaxMessageBytes { get; init; } = Core.Posts.PostDecoder.DefaultMaxBytes;
    /// <summary>How many recent posts are kept in memory so alert evidence can be stored in <c>flagged</c> mode.</summary>
    public int EvidenceCacheSize { get; init; } = 50_000;
    /// <summary>Environment variable that overrides <see cref="StateCheckpointInterval"/> (milliseconds).</summary>
    public const string StateIntervalEnvironmentVariable = "EARLYWARNING_STATE_INTERVAL_MS";

    /// <summary>
    /// Stateful stages checkpoint their state (with the offsets it reflects) at most this often (wall clock) and at the
    /// end. A restart replays from the last state checkpoint, so this bounds the work redone after a crash.
    /// </summary>
    public TimeSpan StateCheckpointInterval { get; init; } = DefaultStateInterval();
    /// <summary>
    /// Largest share of the analysis task's time spent saving stage state: after a save that took t, the next one waits
    /// at least t / share (and at least <see cref="StateCheckpointInterval"/>). On a dense stream the network window's
    /// state is tens of MB and takes about a second to write; saved every 10 s it cost 30 % of a 1M-post run
    /// (BENCHMARKS.md). A longer interval only means more replay after a crash, never loss. 0 or less: no bound.
    /// </summary>
    public double StateCheckpointMaxShare { get; init; } = 0.05;
    /// <summary>Flush signals at the end of a finite source (closing every open bucket).</summary>
    public bool FlushAtEnd { get; init; } = true;

    /// <summary>The wait before the next state save after one that took <paramref name="lastSave"/>: <see cref="StateCheckpointInterval"/>, or longer so saving stays within <see cref="StateCheckpointMaxShare"/> of the time.</summary>
    public TimeSpan NextStateInterval(TimeSpan lastSave) =>
        StateCheckpointMaxShare > 0 && lastSave / StateCheckpointMaxShare > StateCheckpointInterval
            ? lastSave / StateCheckpointMaxShare
            : StateCheckpointInterval;

    private static TimeSpan DefaultStateInterval() =>
        int.TryParse(Environment.GetEnvironmentVariable(StateIntervalEnvironmentVariable), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(10);
}
