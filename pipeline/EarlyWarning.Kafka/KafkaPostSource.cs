using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Confluent.Kafka;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Kafka;

/// <summary>
/// A consumer-group source of raw posts with at-least-once delivery: offsets are stored only for positions the
/// pipeline acknowledged (<see cref="Acknowledge(SourcePosition)"/>), and auto-commit (or <see cref="Commit"/>) sends
/// stored offsets to Kafka. Cooperative-sticky assignment; acknowledgements for partitions revoked or lost since
/// the message was read are ignored, so a revoke mid-batch never commits offsets that now belong to another member.
/// One consumer thread polls Kafka and feeds a bounded buffer; when the buffer is full it pauses its partitions
/// but keeps polling, so rebalances are served while the pipeline applies back-pressure.
/// </summary>
public sealed class KafkaPostSource : IAsyncDisposable, IDisposable
{
    /// <summary>Meter name for the source's instruments (consumer lag).</summary>
    public const string MeterName = "EarlyWarning.Kafka";

    /// <summary>Instrument name of the lag gauge: high watermark minus the first offset not yet acknowledged, per partition.</summary>
    public const string LagInstrument = "earlywarning.kafka.consumer.lag";

    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PausedPollTimeout = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan StallBeforePause = TimeSpan.FromSeconds(1);

    private readonly KafkaSourceOptions _options;
    private readonly IConsumer<Ignore, byte[]> _consumer;
    private readonly Channel<RawMessage> _buffer;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, PartitionState> _assigned = [];
    private readonly Dictionary<string, int> _partitionBySource = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _sourceByPartition = [];
    private readonly Dictionary<int, long> _endOffsets = [];
    /// <summary>Per partition, the offset after the last message handed to the reader in this process (any assignment).</summary>
    private readonly Dictionary<int, long> _handedOn = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _loopExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Meter _meter;
    private Thread? _thread;
    private volatile bool _stop;
    private bool _closing;
    private bool _disposed;
    private volatile bool _assignmentChanged;
    private long _assignmentVersion;
    private long _ignoredAcks, _storedAcks, _revoked, _lost, _errors, _read, _pauses;

    public KafkaPostSource(KafkaSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!KafkaAddress.IsValidTopic(options.Topic)) throw new ArgumentException($"invalid topic name '{options.Topic}'", nameof(options));
        _options = options;
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            ClientId = options.ClientId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1000,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnablePartitionEof = true,
            // librdkafka's own prefetch buffer per partition; bounded memory besides our buffer.
            QueuedMaxMessagesKbytes = 16 * 1024,
        };
        if (options.Config is not null)
            foreach (var (k, v) in options.Config) config.Set(k, v);

        _consumer = new ConsumerBuilder<Ignore, byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                Interlocked.Increment(ref _errors);
                Log($"kafka error {e.Code}{(e.IsFatal ? " (fatal)" : "")}: {e.Reason}");
            })
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) Log($"librdkafka {m.Level} {m.Facility}: {m.Message}"); })
            .SetPartitionsAssignedHandler((_, parts) => OnAssigned(parts))
            .SetPartitionsRevokedHandler((_, parts) => OnRemoved(parts, lost: false))
            .SetPartitionsLostHandler((_, parts) => OnRemoved(parts, lost: true))
            .Build();

        _buffer = Channel.CreateBounded<RawMessage>(new BoundedChannelOptions(Math.Max(1, options.BufferCapacity))
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge(LagInstrument, ObserveLag, unit: "{message}",
            description: "High watermark minus the first offset the pipeline has not acknowledged, per assigned partition.");
    }

    /// <summary>The topic this source reads.</summary>
    public string Topic => _options.Topic;

    /// <summary>The source's meter (its instruments are also visible to any <see cref="MeterListener"/>).</summary>
    public Meter Meter => _meter;

    /// <summary>Completes when the end offsets are known and the consumer has subscribed.</summary>
    public Task Started => _started.Task;

    /// <summary>High watermark per partition of the topic, read at start (empty before <see cref="Started"/>).</summary>
    public IReadOnlyDictionary<int, long> EndOffsetsAtStart
    {
        get { lock (_gate) return new Dictionary<int, long>(_endOffsets); }
    }

    /// <summary>Partitions currently assigned to this member, ascending.</summary>
    public IReadOnlyList<int> AssignedPartitions
    {
        get { lock (_gate) return [.. _assigned.Keys.Order()]; }
    }

    /// <summary>Acknowledgements ignored: unknown source, partition no longer assigned, or position not read in this assignment.</summary>
    public long IgnoredAcknowledgements => Interlocked.Read(ref _ignoredAcks);

    /// <summary>Acknowledgements that stored a new offset.</summary>
    public long StoredAcknowledgements => Interlocked.Read(ref _storedAcks);

    /// <summary>Partitions revoked from this member by rebalances (cumulative).</summary>
    public long RevokedPartitions => Interlocked.Read(ref _revoked);

    /// <summary>Partitions lost (session timeout, fenced) by this member (cumulative).</summary>
    public long LostPartitions => Interlocked.Read(ref _lost);

    /// <summary>Client errors reported by librdkafka (most are transient and retried).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Times the consumer paused fetching because the reader fell behind (back-pressure).</summary>
    public long BackPressurePauses => Interlocked.Read(ref _pauses);

    /// <summary>Messages handed to the reader.</summary>
    public long MessagesRead => Interlocked.Read(ref _read);

    /// <summary>
    /// Reads messages in partition order. With <see cref="KafkaSourceOptions.UntilEnd"/> the sequence ends once every
    /// assigned partition reached its end offset seen at start; otherwise it runs until cancelled or disposed.
    /// An empty (null) Kafka value is delivered as empty bytes, so the decoder dead-letters it with a reason.
    /// </summary>
    public async IAsyncEnumerable<RawMessage> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Start();
        var reader = _buffer.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                Interlocked.Increment(ref _read);
                yield return message;
            }
        }
    }

    /// <summary>
    /// Starts the consumer (once) and gives the raw buffer, for readers that merge partitions themselves and must wait
    /// with a timeout. Messages taken here count as read. Use either this or <see cref="ReadAsync"/>, not both.
    /// </summary>
    public ChannelReader<RawMessage> OpenReader()
    {
        Start();
        return _reader ??= new CountingReader(_buffer.Reader, this);
    }

    /// <summary>Changes whenever partitions are assigned or removed (cheap to poll).</summary>
    public long AssignmentVersion => Interlocked.Read(ref _assignmentVersion);

    /// <summary>
    /// True when <paramref name="partition"/> is assigned and the consumer saw its end (partition EOF, or the end offset
    /// seen at start with <see cref="KafkaSourceOptions.UntilEnd"/>) after handing the reader the message at
    /// <paramref name="lastReceived"/> (-1 when the reader received none from it): nothing more of it is on its way now.
    /// </summary>
    public bool IsCaughtUp(int partition, long lastReceived)
    {
        lock (_gate)
        {
            if (!_assigned.TryGetValue(partition, out var s)) return true;
            if (s.CaughtUpAfter is { } after) return after < 0 || lastReceived >= after;
            if (_options.UntilEnd && s.AtEnd) return s.NextOffset < 0 || lastReceived >= s.NextOffset - 1;
            return false;
        }
    }

    /// <summary>
    /// Marks everything up to and including <paramref name="upTo"/> in its partition as durably stored; its next
    /// offset is stored for commit. Returns false (and counts it) when the acknowledgement is ignored because the
    /// partition is not assigned to this member any more, or the position was not read in the current assignment.
    /// </summary>
    public bool Acknowledge(SourcePosition upTo)
    {
        lock (_gate)
        {
            if (_closing || !_partitionBySource.TryGetValue(upTo.Source, out var partition)
                || !_assigned.TryGetValue(partition, out var state)
                || state.FirstOffset < 0 || upTo.Offset < state.FirstOffset || upTo.Offset >= state.NextOffset)
            {
                Interlocked.Increment(ref _ignoredAcks);
                return false;
            }
            if (upTo.Offset + 1 <= state.StoredOffset) return true;
            try
            {
                _consumer.StoreOffset(new TopicPartitionOffset(_options.Topic, partition, upTo.Offset + 1));
            }
            catch (KafkaException e)
            {
                // The partition went away inside librdkafka before our handler ran: same as revoked.
                Interlocked.Increment(ref _ignoredAcks);
                Log($"ack for {upTo.Source}@{upTo.Offset} ignored: {e.Error.Reason}");
                return false;
            }
            state.StoredOffset = upTo.Offset + 1;
            Interlocked.Increment(ref _storedAcks);
            return true;
        }
    }

    /// <summary>Acknowledges a store batch's checkpoints (source → highest stored offset); other sources are skipped.</summary>
    public int Acknowledge(IReadOnlyDictionary<string, long> checkpoints)
    {
        ArgumentNullException.ThrowIfNull(checkpoints);
        var accepted = 0;
        foreach (var (source, offset) in checkpoints)
        {
            if (!source.StartsWith(KafkaAddress.Scheme, StringComparison.Ordinal)) continue;
            if (Acknowledge(new SourcePosition(source, offset))) accepted++;
        }
        return accepted;
    }

    /// <summary>
    /// Commits the stored offsets of the partitions assigned now, synchronously (auto-commit does this every second
    /// and on revoke/close anyway). Returns the committed offsets (partition → next offset to read).
    /// </summary>
    public IReadOnlyDictionary<int, long> Commit()
    {
        lock (_gate)
        {
            // Under the lock a rebalance cannot remove a partition between choosing and committing its offset.
            var offsets = _assigned.Where(kv => kv.Value.StoredOffset >= 0)
                .Select(kv => new TopicPartitionOffset(_options.Topic, kv.Key, kv.Value.StoredOffset)).ToList();
            if (offsets.Count > 0 && !_closing) _consumer.Commit(offsets);
            return offsets.ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
        }
    }

    /// <summary>
    /// Consumer lag per assigned partition: high watermark minus the first offset not yet acknowledged as stored, i.e.
    /// messages not yet durable in the pipeline (known once the partition delivered its first message).
    /// </summary>
    public IReadOnlyDictionary<int, long> GetLag()
    {
        var lag = new Dictionary<int, long>();
        lock (_gate)
        {
            if (_disposed) return lag;
            foreach (var (partition, state) in _assigned)
            {
                if (state.FirstOffset < 0) continue;
                var w = _consumer.GetWatermarkOffsets(new TopicPartition(_options.Topic, partition));
                if (w.High.IsSpecial) continue;
                var acknowledged = state.StoredOffset >= 0 ? state.StoredOffset : state.FirstOffset;
                lag[partition] = Math.Max(0, w.High.Value - acknowledged);
            }
        }
        return lag;
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        var list = new List<Measurement<long>>();
        foreach (var (partition, lag) in GetLag())
            list.Add(new Measurement<long>(lag,
                new KeyValuePair<string, object?>("topic", _options.Topic),
                new KeyValuePair<string, object?>("partition", partition),
                new KeyValuePair<string, object?>("group", _options.GroupId)));
        return list;
    }

    private void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed || _closing, this);
            if (_thread is not null) return;
            _thread = new Thread(RunLoop) { IsBackground = true, Name = "kafka-source:" + _options.Topic };
        }
        _thread.Start();
    }

    private void RunLoop()
    {
        try
        {
            LoadEndOffsets();
            _consumer.Subscribe(_options.Topic);
            _started.TrySetResult();
            // Messages the full buffer could not take yet. A short stall just waits for space (librdkafka heartbeats
            // on its own threads). Pausing makes librdkafka drop its prefetched messages and fetch again on resume, so
            // only a reader stalled longer than StallBeforePause pauses the partitions; polling then goes on so that
            // rebalances are served, and fetching resumes once half of the backlog is delivered.
            var overflow = new Queue<RawMessage>();
            var pauseAt = Math.Max(_options.BufferCapacity, 256);
            var paused = false;
            while (!_stop)
            {
                while (overflow.Count > 0 && _buffer.Writer.TryWrite(overflow.Peek())) overflow.Dequeue();
                if (!paused && overflow.Count >= pauseAt)
                {
                    if (WaitForSpace(StallBeforePause)) continue;
                    _consumer.Pause(_consumer.Assignment);
                    paused = true;
                    _assignmentChanged = false;
                    Interlocked.Increment(ref _pauses);
                }
                if (paused)
                {
                    if (overflow.Count <= pauseAt / 2)
                    {
                        _consumer.Resume(_consumer.Assignment);
                        paused = false;
                    }
                    else
                    {
                        // Partitions assigned while paused must not start fetching either.
                        if (_assignmentChanged) { _assignmentChanged = false; _consumer.Pause(_consumer.Assignment); }
                        WaitForSpace(PausedPollTimeout);
                        PollOnce(TimeSpan.Zero, overflow);
                        continue;
                    }
                }
                if (overflow.Count == 0 && _options.UntilEnd && AllAssignedAtEnd()) break;
                PollOnce(overflow.Count > 0 ? PausedPollTimeout : PollTimeout, overflow);
            }
            _buffer.Writer.TryComplete();
        }
        catch (Exception e)
        {
            // A background thread must not take the process down: the reader sees the failure instead.
            Log($"consumer stopped: {e.Message}");
            _started.TrySetException(e);
            _buffer.Writer.TryComplete(e);
        }
        finally
        {
            _started.TrySetResult();
            _loopExited.TrySetResult();
        }
    }

    private void LoadEndOffsets()
    {
        using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
        var metadata = admin.GetMetadata(_options.Topic, _options.MetadataTimeout);
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _options.Topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
        {
            var reason = topic?.Error.Reason ?? "not in metadata";
            if (_options.UntilEnd) throw new InvalidOperationException($"topic '{_options.Topic}' is not available: {reason}");
            Log($"topic '{_options.Topic}' not available yet ({reason}); consuming once it appears");
            return;
        }
        foreach (var p in topic.Partitions)
        {
            var w = _consumer.QueryWatermarkOffsets(new TopicPartition(_options.Topic, p.PartitionId), _options.MetadataTimeout);
            lock (_gate) _endOffsets[p.PartitionId] = w.High.Value;
        }
    }

    private void PollOnce(TimeSpan timeout, Queue<RawMessage> overflow)
    {
        ConsumeResult<Ignore, byte[]>? result;
        try
        {
            result = _consumer.Consume(timeout);
        }
        catch (ConsumeException e)
        {
            Interlocked.Increment(ref _errors);
            Log($"consume error {e.Error.Code}: {e.Error.Reason}");
            if (e.Error.IsFatal) throw;
            return;
        }
        if (result is null) return;
        var partition = result.Partition.Value;
        if (result.IsPartitionEOF)
        {
            lock (_gate)
                if (_assigned.TryGetValue(partition, out var s))
                {
                    s.AtEnd = true;
                    s.CaughtUpAfter = s.NextOffset - 1;
                }
            return;
        }
        var offset = result.Offset.Value;
        string source;
        lock (_gate)
        {
            source = SourceOf(partition);
            if (_assigned.TryGetValue(partition, out var s))
            {
                if (s.FirstOffset < 0) s.FirstOffset = offset;
                s.NextOffset = offset + 1;
                s.CaughtUpAfter = null;
                if (s.NextOffset >= EndOf(partition)) s.AtEnd = true;
            }
            _handedOn[partition] = offset + 1;
        }
        var message = new RawMessage(result.Message.Value ?? [], new SourcePosition(source, offset));
        if (overflow.Count > 0 || !_buffer.Writer.TryWrite(message)) overflow.Enqueue(message);
    }

    private Task<bool>? _spaceWaiter;
    private CountingReader? _reader;

    private sealed class CountingReader(ChannelReader<RawMessage> inner, KafkaPostSource owner) : ChannelReader<RawMessage>
    {
        public override Task Completion => inner.Completion;
        public override bool CanCount => inner.CanCount;
        public override int Count => inner.Count;

        public override bool TryRead(out RawMessage item)
        {
            if (!inner.TryRead(out item)) return false;
            Interlocked.Increment(ref owner._read);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);
    }

    /// <summary>Blocks the consumer thread until the buffer has room or the timeout passes (one waiter reused across calls).</summary>
    private bool WaitForSpace(TimeSpan timeout)
    {
        if (_spaceWaiter is null || _spaceWaiter.IsCompleted) _spaceWaiter = _buffer.Writer.WaitToWriteAsync().AsTask();
        return _spaceWaiter.Wait(timeout) && _spaceWaiter.Result;
    }

    private bool AllAssignedAtEnd()
    {
        lock (_gate)
        {
            if (_assigned.Count == 0) return false;
            foreach (var s in _assigned.Values)
                if (!s.AtEnd) return false;
            return true;
        }
    }

    private long EndOf(int partition) => _endOffsets.TryGetValue(partition, out var end) ? end : 0;

    private string SourceOf(int partition)
    {
        if (!_sourceByPartition.TryGetValue(partition, out var name))
        {
            name = KafkaAddress.SourceName(_options.Topic, partition);
            _sourceByPartition[partition] = name;
            _partitionBySource[name] = partition;
        }
        return name;
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> parts)
    {
        var start = new List<TopicPartitionOffset>(parts.Count);
        lock (_gate)
        {
            foreach (var tp in parts)
            {
                start.Add(new TopicPartitionOffset(tp, StartOffsetOf(tp)));
                if (tp.Topic != _options.Topic) continue;
                SourceOf(tp.Partition.Value);
                _assigned[tp.Partition.Value] = new PartitionState();
            }
        }
        _assignmentChanged = true;
        Interlocked.Increment(ref _assignmentVersion);
        Log($"assigned {_options.Topic} [{string.Join(',', start.Select(p => $"{p.Partition.Value}@{Describe(p.Offset)}"))}]");
        return start;
    }

    private static string Describe(Offset o) =>
        o == Offset.Unset ? "committed" : o == Offset.Beginning ? "beginning" : o.IsSpecial ? "special" : o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Where a newly assigned partition starts. A partition this source read from before (assigned again after a
    /// rebalance) continues after the last message it handed on: the reader has seen those already. Otherwise the
    /// caller's start offset (or the beginning) when <see cref="KafkaSourceOptions.StartOffsets"/> is set, else the
    /// group's committed offset.
    /// </summary>
    private Offset StartOffsetOf(TopicPartition tp)
    {
        if (tp.Topic != _options.Topic) return Offset.Unset;
        if (_handedOn.TryGetValue(tp.Partition.Value, out var after)) return new Offset(after);
        if (_options.StartOffsets is not { } starts) return Offset.Unset;
        return starts.TryGetValue(tp.Partition.Value, out var next) && next >= 0 ? new Offset(next) : Offset.Beginning;
    }

    private void OnRemoved(List<TopicPartitionOffset> parts, bool lost)
    {
        lock (_gate)
        {
            foreach (var tp in parts)
                if (tp.Topic == _options.Topic && _assigned.Remove(tp.Partition.Value))
                    Interlocked.Increment(ref lost ? ref _lost : ref _revoked);
        }
        Interlocked.Increment(ref _assignmentVersion);
        Log($"{(lost ? "lost" : "revoked")} {_options.Topic} [{string.Join(',', parts.Select(p => p.Partition.Value))}]");
    }

    private void Log(string message) => _options.Log?.Invoke(message);

    /// <summary>Stops reading, commits stored offsets and leaves the group (<c>Close()</c>).</summary>
    public async ValueTask DisposeAsync()
    {
        _stop = true;
        if (_thread is not null) await _loopExited.Task.ConfigureAwait(false);
        Close();
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/>; blocks until the consumer thread has stopped.</summary>
    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
        Close();
    }

    private void Close()
    {
        lock (_gate)
        {
            if (_closing) return;
            _closing = true;
        }
        // Worth knowing on a slow machine: a paused consumer fetches nothing until the pipeline catches up.
        var pauses = Interlocked.Read(ref _pauses);
        if (pauses > 0) Log($"paused its partitions {pauses} time(s) while the pipeline caught up (back-pressure)");
        try
        {
            // Close revokes the assignment (committing stored offsets) and leaves the group promptly.
            _consumer.Close();
        }
        catch (KafkaException e)
        {
            Log($"close: {e.Error.Reason}");
        }
        finally
        {
            lock (_gate) _disposed = true;
            _consumer.Dispose();
            _meter.Dispose();
            _buffer.Writer.TryComplete();
        }
    }

    private sealed class PartitionState
    {
        /// <summary>First offset read since this assignment; older acknowledgements belong to an earlier owner.</summary>
        public long FirstOffset = -1;
        public long NextOffset = -1;
        public long StoredOffset = -1;
        public bool AtEnd;
        /// <summary>Set at partition EOF: the last offset handed to the reader before it (-2 when none was), cleared by a new message.</summary>
        public long? CaughtUpAfter;
    }
}
