using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EarlyWarning.Core.Posts;
using EarlyWarning.Kafka;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// A Kafka consumer group as a pipeline source. Positions are per partition (<c>kafka:TOPIC/P</c>); offsets are stored
/// for commit only after the store acknowledged them. Partitions are merged in event time (<c>created_at</c>): a
/// message is handed on only when every other assigned partition either has a later message waiting or is caught up,
/// so the stateful stages see the same order whatever the fetch interleaving (each partition is already in event
/// time when producers key by region). When the pipeline restored stage state, every partition starts at the offset
/// that state reflects (<see cref="ResumeFrom"/>); otherwise it starts at the beginning, because a store without state
/// has not seen anything the detectors would need.
/// </summary>
public sealed class KafkaMessageSource : IMessageSource, IAsyncDisposable
{
    /// <summary>librdkafka properties for every Kafka client of the app, as <c>name=value;name=value</c>.</summary>
    public const string ConfigEnvironmentVariable = "EARLYWARNING_KAFKA_CONFIG";

    private readonly KafkaAddress _address;
    private readonly string _groupId;
    private readonly TextWriter? _log;
    private Dictionary<int, long>? _startOffsets = [];
    private KafkaPostSource? _consumer;

    public KafkaMessageSource(KafkaAddress address, string groupId, bool untilEnd, TextWriter? log = null)
    {
        _address = address;
        _groupId = groupId;
        _log = log;
        IsFinite = untilEnd;
        Name = $"kafka:{address.BootstrapServers}/{address.Topic}";
    }

    public string Name { get; }
    public bool IsFinite { get; }

    /// <summary>How long the merge waits for a partition that has neither a message nor reached its end (a broker down).</summary>
    public TimeSpan MaxMergeWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many messages the merge holds at most; beyond that it hands on the earliest without waiting.</summary>
    public int MaxMergeBuffer { get; init; } = 50_000;

    /// <summary>Extra librdkafka properties (override <see cref="ConfigEnvironmentVariable"/>).</summary>
    public IReadOnlyDictionary<string, string>? Config { get; init; }

    /// <summary>Messages handed on before their turn because a partition stalled longer than <see cref="MaxMergeWait"/> or the buffer was full.</summary>
    public long ForcedOutOfOrder { get; private set; }

    /// <summary>The consumer (null before <see cref="ReadAsync"/>).</summary>
    public KafkaPostSource? Consumer => _consumer;

    /// <summary>
    /// Sets where each partition starts from the offsets the restored stage state reflects (source name → last offset
    /// reflected); partitions it does not name start at the beginning. Null means "use the group's committed offsets"
    /// (for a consumer without stateful stages). Call before reading. Returns null: positions are per partition.
    /// </summary>
    public long? ResumeFrom(IReadOnlyDictionary<string, long>? stateOffsets)
    {
        if (stateOffsets is null) { _startOffsets = null; return null; }
        _startOffsets = [];
        foreach (var (source, offset) in stateOffsets)
            if (KafkaAddress.TryParseSourceName(source, out var topic, out var partition) && topic == _address.Topic)
                _startOffsets[partition] = offset + 1;
        return null;
    }

    /// <summary>Positions come from <see cref="ResumeFrom"/> (per partition); <paramref name="resumeAfter"/> is not used.</summary>
    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        _consumer ??= new KafkaPostSource(new KafkaSourceOptions
        {
            BootstrapServers = _address.BootstrapServers,
            Topic = _address.Topic,
            GroupId = _groupId,
            UntilEnd = IsFinite,
            StartOffsets = _startOffsets,
            Config = MergedConfig(),
            Log = _log is null ? null : m => _log.WriteLine(m),
        });
        if (_startOffsets is { Count: > 0 })
            _log?.WriteLine("kafka start offsets from stage state: " + string.Join(", ", _startOffsets.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}@{kv.Value}")));
        var reader = _consumer.OpenReader();
        var merge = new EventTimeMerge(_consumer);
        long blockedSince = 0;
        while (true)
        {
            while (merge.Count < MaxMergeBuffer && reader.TryRead(out var m)) merge.Add(m);
            var drained = reader.Completion.IsCompleted;
            while (true)
            {
                var force = drained || merge.Count >= MaxMergeBuffer
                    || (blockedSince != 0 && Stopwatch.GetElapsedTime(blockedSince) > MaxMergeWait);
                if (!merge.TryTake(force, out var next, out var blocked))
                {
                    if (blocked && blockedSince == 0) blockedSince = Stopwatch.GetTimestamp();
                    break;
                }
                if (blocked && !drained) ForcedOutOfOrder++;
                else blockedSince = 0;
                yield return next;
            }
            if (ct.IsCancellationRequested) yield break;
            if (drained && merge.Count == 0)
            {
                await reader.Completion.ConfigureAwait(false); // surfaces a consumer failure
                _log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"kafka source drained: {_consumer.MessagesRead} messages, {ForcedOutOfOrder} handed on out of event-time order"));
                yield break;
            }
            if (merge.Count >= MaxMergeBuffer) continue;
            // Waiting on a partition's end is polled: the consumer notes partition EOF without writing to the buffer.
            using var poll = merge.Count > 0 ? CancellationTokenSource.CreateLinkedTokenSource(ct) : null;
            poll?.CancelAfter(TimeSpan.FromMilliseconds(20));
            try
            {
                await reader.WaitToReadAsync(poll?.Token ?? ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (ct.IsCancellationRequested) yield break;
            }
        }
    }

    /// <summary>Per partition (<c>kafka:TOPIC/P</c>): high watermark minus the first offset not yet acknowledged as stored.</summary>
    public IEnumerable<KeyValuePair<string, long>> Lag()
    {
        if (_consumer is not { } consumer) return [];
        return [.. consumer.GetLag().OrderBy(kv => kv.Key).Select(kv => new KeyValuePair<string, long>(KafkaAddress.SourceName(_address.Topic, kv.Key), kv.Value))];
    }

    private Dictionary<string, string> MergedConfig()
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Environment.GetEnvironmentVariable(ConfigEnvironmentVariable) is { Length: > 0 } env)
            foreach (var pair in env.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new ArgumentException($"{ConfigEnvironmentVariable}: '{pair}' is not name=value");
                config[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
            }
        if (Config is not null)
            foreach (var (k, v) in Config) config[k] = v;
        return config;
    }

    public void Acknowledge(IReadOnlyDictionary<string, long> checkpoints) => _consumer?.Acknowledge(checkpoints);

    public ValueTask DisposeAsync() => _consumer?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// Per-partition queues ordered by event time. The earliest head goes next once no other assigned partition might
    /// still deliver something earlier (it has a head of its own, or the consumer saw its end after our last message).
    /// Ties go to the lower partition; messages without a readable <c>created_at</c> (dead letters to be) go at once.
    /// </summary>
    private sealed class EventTimeMerge(KafkaPostSource consumer)
    {
        private readonly Dictionary<int, Lane> _lanes = [];
        private long _assignmentVersion = -1;
        private IReadOnlyList<int> _assigned = [];

        public int Count { get; private set; }

        public void Add(RawMessage m)
        {
            var partition = KafkaAddress.TryParseSourceName(m.Position.Source, out _, out var p) ? p : -1;
            if (!_lanes.TryGetValue(partition, out var lane)) _lanes[partition] = lane = new Lane();
            lane.Queue.Enqueue((EventTicks(m.Bytes.Span), m));
            lane.LastReceived = m.Position.Offset;
            Count++;
        }

        /// <param name="next">The message to hand on.</param>
        /// <param name="force">Hand on the earliest head even if a partition might still deliver an earlier one.</param>
        /// <param name="blocked">True when a stalled partition held the head back (with force: it was handed on anyway).</param>
        public bool TryTake(bool force, out RawMessage next, out bool blocked)
        {
            next = default;
            blocked = false;
            var best = -2;
            long bestTicks = 0;
            foreach (var (partition, lane) in _lanes)
            {
                if (lane.Queue.Count == 0) continue;
                var ticks = lane.Queue.Peek().Ticks;
                if (best == -2 || ticks < bestTicks || (ticks == bestTicks && partition < best)) { best = partition; bestTicks = ticks; }
            }
            if (best == -2) return false;
            if (bestTicks != long.MinValue)
            {
                RefreshAssignment();
                foreach (var partition in _assigned)
                {
                    if (partition == best) continue;
                    var lane = _lanes.GetValueOrDefault(partition);
                    if (lane is { Queue.Count: > 0 }) continue;
                    if (!consumer.IsCaughtUp(partition, lane?.LastReceived ?? -1)) { blocked = true; break; }
                }
                if (blocked && !force) return false;
            }
            next = _lanes[best].Queue.Dequeue().Message;
            Count--;
            return true;
        }

        private void RefreshAssignment()
        {
            var v = consumer.AssignmentVersion;
            if (v == _assignmentVersion) return;
            _assignmentVersion = v;
            _assigned = consumer.AssignedPartitions;
        }

        /// <summary>Event time of a post from its raw JSON (<c>created_at</c>), without allocating; MinValue when unreadable.</summary>
        internal static long EventTicks(ReadOnlySpan<byte> json)
        {
            var i = json.IndexOf("\"created_at\""u8);
            if (i < 0) return long.MinValue;
            var rest = json[(i + 12)..];
            var q = rest.IndexOf((byte)'"');
            if (q < 0) return long.MinValue;
            rest = rest[(q + 1)..];
            var e = rest.IndexOf((byte)'"');
            if (e <= 0 || e > 64) return long.MinValue;
            Span<char> chars = stackalloc char[64];
            for (var k = 0; k < e; k++) chars[k] = (char)rest[k];
            return DateTimeOffset.TryParse(chars[..e], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t.UtcTicks : long.MinValue;
        }

        private sealed class Lane
        {
            public Queue<(long Ticks, RawMessage Message)> Queue { get; } = new();
            public long LastReceived { get; set; } = -1;
        }
    }
}
