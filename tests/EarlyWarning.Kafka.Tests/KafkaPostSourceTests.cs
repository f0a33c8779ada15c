using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using EarlyWarning.Core.Posts;
using EarlyWarning.Kafka;

namespace EarlyWarning.Kafka.Tests;

public sealed class KafkaPostSourceTests : IClassFixture<MockClusterFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly MockClusterFixture _k;

    public KafkaPostSourceTests(MockClusterFixture fixture) => _k = fixture;

    /// <summary>Reads a source in the background into <paramref name="seen"/>, acknowledging each message when asked.</summary>
    private static Task ReadInto(KafkaPostSource source, ConcurrentQueue<RawMessage> seen, bool ack, CancellationToken ct) =>
        Task.Run(async () =>
        {
            try
            {
                await foreach (var m in source.ReadAsync(ct))
                {
                    seen.Enqueue(m);
                    if (ack) source.Acknowledge(m.Position);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);

    [Fact]
    public async Task Reads_all_20k_messages_of_a_6_partition_topic_and_commits_acknowledged_offsets()
    {
        const int partitions = 6, count = 20_000;
        var topic = _k.NewTopic(partitions);
        var perPartition = _k.Produce(topic, partitions, count);
        var group = MockClusterFixture.NewGroup();

        var ids = new HashSet<int>();
        var duplicates = 0;
        var lastOffset = new Dictionary<string, long>();
        var outOfOrder = 0;
        long lagMidway = -1;
        await using (var source = _k.NewSource(topic, group, untilEnd: true))
        {
            using var cts = new CancellationTokenSource(Long);
            await foreach (var m in source.ReadAsync(cts.Token))
            {
                if (!ids.Add(MockClusterFixture.IdOf(m.Bytes))) duplicates++;
                if (lastOffset.TryGetValue(m.Position.Source, out var prev) && m.Position.Offset != prev + 1) outOfOrder++;
                lastOffset[m.Position.Source] = m.Position.Offset;
                // Acknowledge the first half only until midway, to see the lag gauge report what is not yet durable.
                if (ids.Count <= count / 2) source.Acknowledge(m.Position);
                if (ids.Count == count / 2) lagMidway = ObserveLag(source);
            }
            Assert.True(ObserveLag(source) >= count / 2, "lag counts the unacknowledged second half");
            foreach (var (src, offset) in lastOffset) Assert.True(source.Acknowledge(new SourcePosition(src, offset)));
            Assert.Equal(0, ObserveLag(source));

            Assert.Equal(count, source.EndOffsetsAtStart.Values.Sum());
            Assert.Equal(Enumerable.Range(0, partitions), source.AssignedPartitions);
            Assert.Equal(count, source.MessagesRead);
            Assert.Equal(0, source.IgnoredAcknowledgements);
        }
        Assert.Equal(count, ids.Count);
        Assert.Equal(0, duplicates);
        Assert.Equal(0, outOfOrder);
        Assert.True(lagMidway > 0, $"lag at midway was {lagMidway}");
        var committed = _k.Committed(topic, group, partitions);
        foreach (var (p, n) in perPartition) Assert.Equal(n, committed[p]);
    }

    /// <summary>Sum of the lag gauge's measurements, read through a <see cref="MeterListener"/> as a metrics exporter would.</summary>
    private static long ObserveLag(KafkaPostSource source)
    {
        long sum = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, source.Meter) && instrument.Name == KafkaPostSource.LagInstrument) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => sum += value);
        listener.Start();
        listener.RecordObservableInstruments();
        return sum;
    }

    [Fact]
    public async Task A_restarted_consumer_resumes_after_the_acknowledged_offsets()
    {
        const int partitions = 6, count = 3_000;
        var topic = _k.NewTopic(partitions);
        var perPartition = _k.Produce(topic, partitions, count);
        var group = MockClusterFixture.NewGroup();

        // First run: read everything, acknowledge only the first half of every partition, stop.
        var acked = new HashSet<int>();
        var all = new HashSet<int>();
        await using (var first = _k.NewSource(topic, group, untilEnd: true))
        {
            using var cts = new CancellationTokenSource(Long);
            await foreach (var m in first.ReadAsync(cts.Token))
            {
                var id = MockClusterFixture.IdOf(m.Bytes);
                all.Add(id);
                Assert.True(KafkaAddress.TryParseSourceName(m.Position.Source, out var t, out var p));
                Assert.Equal(topic, t);
                if (m.Position.Offset < perPartition[p] / 2)
                {
                    Assert.True(first.Acknowledge(m.Position));
                    acked.Add(id);
                }
            }
        }
        Assert.Equal(count, all.Count);

        // Second run, same group: exactly the unacknowledged messages, starting right after the acknowledged offsets.
        var second = new List<RawMessage>();
        await using (var source = _k.NewSource(topic, group, untilEnd: true))
        {
            using var cts = new CancellationTokenSource(Long);
            await foreach (var m in source.ReadAsync(cts.Token)) second.Add(m);
        }
        var secondIds = second.Select(m => MockClusterFixture.IdOf(m.Bytes)).ToHashSet();
        Assert.Equal(second.Count, secondIds.Count);
        Assert.Equal(all.Except(acked).Order(), secondIds.Order());
        foreach (var g in second.GroupBy(m => m.Position.Source))
        {
            KafkaAddress.TryParseSourceName(g.Key, out _, out var p);
            Assert.Equal(perPartition[p] / 2, g.Min(m => m.Position.Offset));
        }
    }

    [Fact]
    public async Task Two_consumers_in_one_group_split_the_partitions_and_together_see_every_message()
    {
        const int partitions = 6, count = 6_000;
        var topic = _k.NewTopic(partitions);
        var group = MockClusterFixture.NewGroup();
        await using var a = _k.NewSource(topic, group);
        await using var b = _k.NewSource(topic, group);
        var seenA = new ConcurrentQueue<RawMessage>();
        var seenB = new ConcurrentQueue<RawMessage>();
        using var cts = new CancellationTokenSource(Long);
        var ra = ReadInto(a, seenA, ack: true, cts.Token);
        var rb = ReadInto(b, seenB, ack: true, cts.Token);
        await Wait.UntilAsync(() => a.AssignedPartitions.Count > 0 && b.AssignedPartitions.Count > 0
                                    && a.AssignedPartitions.Count + b.AssignedPartitions.Count == partitions, Long, "both members assigned");

        _k.Produce(topic, partitions, count);
        await Wait.UntilAsync(() => seenA.Count + seenB.Count >= count, Long, "every message consumed");
        cts.Cancel();
        await Task.WhenAll(ra, rb);

        var partsA = seenA.Select(m => m.Position.Source).ToHashSet();
        var partsB = seenB.Select(m => m.Position.Source).ToHashSet();
        Assert.NotEmpty(partsA);
        Assert.NotEmpty(partsB);
        Assert.Empty(partsA.Intersect(partsB));
        var ids = seenA.Concat(seenB).Select(m => MockClusterFixture.IdOf(m.Bytes)).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(Enumerable.Range(0, count), ids.Order());
    }

    [Fact]
    public async Task A_broker_down_and_up_mid_stream_stalls_its_partitions_then_nothing_is_lost()
    {
        const int partitions = 6, batch = 3_000;
        var topic = _k.NewTopic(partitions);
        var group = MockClusterFixture.NewGroup();
        _k.Produce(topic, partitions, batch);
        var (broker, affected) = _k.LeaderOf(topic, 0);

        await using var source = _k.NewSource(topic, group);
        var seen = new ConcurrentQueue<RawMessage>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reader = ReadInto(source, seen, ack: true, cts.Token);
        await Wait.UntilAsync(() => seen.Count >= batch, Long, "first batch consumed");

        using var producer = _k.NewProducer();
        var affectedSources = affected.Select(p => KafkaAddress.SourceName(topic, p)).ToHashSet();
        Func<int> errors;
        _k.Cluster.SetBrokerDown(broker);
        try
        {
            // Second batch while the broker is down: only partitions led by other brokers can make progress.
            var perPartition = MockClusterFixture.ProduceNoWait(producer, topic, partitions, batch, batch, out errors);
            var reachable = perPartition.Where(kv => !affected.Contains(kv.Key)).Sum(kv => kv.Value);
            await Wait.UntilAsync(() => seen.Count(m => MockClusterFixture.IdOf(m.Bytes) >= batch) >= reachable, Long,
                "second batch on reachable partitions");
            Assert.DoesNotContain(seen, m => MockClusterFixture.IdOf(m.Bytes) >= batch && affectedSources.Contains(m.Position.Source));
        }
        finally
        {
            _k.Cluster.SetBrokerUp(broker);
        }

        await Wait.UntilAsync(() => seen.Select(m => MockClusterFixture.IdOf(m.Bytes)).Distinct().Count() >= 2 * batch,
            TimeSpan.FromSeconds(45), "every message after the broker came back");
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, errors());
        cts.Cancel();
        await reader;
        var ids = seen.Select(m => MockClusterFixture.IdOf(m.Bytes)).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 2 * batch), ids.Order());
    }

    [Fact]
    public async Task Revoke_during_a_batch_ignores_acks_for_revoked_partitions_and_commits_no_foreign_offsets()
    {
        const int partitions = 6, count = 1_200;
        var topic = _k.NewTopic(partitions);
        var perPartition = _k.Produce(topic, partitions, count);
        var group = MockClusterFixture.NewGroup();

        await using var a = _k.NewSource(topic, group);
        var batchA = new ConcurrentQueue<RawMessage>();
        using var cts = new CancellationTokenSource(Long);
        var ra = ReadInto(a, batchA, ack: false, cts.Token);
        await Wait.UntilAsync(() => batchA.Count >= count, Long, "A read the whole topic");

        // B joins while A still holds its un-acknowledged batch: cooperative rebalance revokes part of A's partitions.
        await using var b = _k.NewSource(topic, group);
        var seenB = new ConcurrentQueue<RawMessage>();
        var rb = ReadInto(b, seenB, ack: false, cts.Token);
        await Wait.UntilAsync(() => b.AssignedPartitions.Count > 0 && a.AssignedPartitions.Count + b.AssignedPartitions.Count == partitions,
            Long, "B took over partitions from A");
        var kept = a.AssignedPartitions.ToHashSet();
        var taken = b.AssignedPartitions.ToHashSet();
        Assert.True(a.RevokedPartitions >= taken.Count);

        // A now acknowledges its whole batch, as a pipeline would after storing it.
        var accepted = 0;
        foreach (var m in batchA) if (a.Acknowledge(m.Position)) accepted++;
        var inKept = batchA.Count(m => kept.Contains(Partition(m)));
        Assert.Equal(inKept, accepted);
        Assert.Equal(count - inKept, a.IgnoredAcknowledgements);
        var committedByA = a.Commit();
        Assert.Equal(kept.Order(), committedByA.Keys.Order());

        var committed = _k.Committed(topic, group, partitions);
        foreach (var p in kept) Assert.Equal(perPartition[p], committed[p]);
        foreach (var p in taken) Assert.Equal(Offset.Unset.Value, committed[p]);
        cts.Cancel();
        await Task.WhenAll(ra, rb);
    }

    private static int Partition(RawMessage m)
    {
        KafkaAddress.TryParseSourceName(m.Position.Source, out _, out var p);
        return p;
    }

    [Fact]
    public async Task Until_end_on_an_empty_topic_ends_and_unknown_acks_are_ignored()
    {
        var topic = _k.NewTopic(3);
        await using var source = _k.NewSource(topic, MockClusterFixture.NewGroup(), untilEnd: true);
        var n = 0;
        using var cts = new CancellationTokenSource(Long);
        await foreach (var _ in source.ReadAsync(cts.Token)) n++;
        Assert.Equal(0, n);
        Assert.Equal(3, source.EndOffsetsAtStart.Count);
        Assert.False(source.Acknowledge(new SourcePosition("kafka:other/0", 5)));
        Assert.False(source.Acknowledge(new SourcePosition(KafkaAddress.SourceName(topic, 0), 0)));
        Assert.Equal(2, source.IgnoredAcknowledgements);
    }

    [Fact]
    public async Task Back_pressure_with_a_tiny_buffer_still_delivers_everything_in_order()
    {
        const int partitions = 2, count = 5_000;
        var topic = _k.NewTopic(partitions);
        _k.Produce(topic, partitions, count);
        await using var source = _k.NewSource(topic, MockClusterFixture.NewGroup(), untilEnd: true, bufferCapacity: 16);
        var last = new Dictionary<string, long>();
        var ids = new HashSet<int>();
        using var cts = new CancellationTokenSource(Long);
        var i = 0;
        await foreach (var m in source.ReadAsync(cts.Token))
        {
            if (last.TryGetValue(m.Position.Source, out var prev)) Assert.Equal(prev + 1, m.Position.Offset);
            last[m.Position.Source] = m.Position.Offset;
            ids.Add(MockClusterFixture.IdOf(m.Bytes));
            // A reader that stops until the consumer thread has paused: back-pressure, then resume.
            if (++i == 100) await Wait.UntilAsync(() => source.BackPressurePauses > 0, Long, "consumer paused");
        }
        Assert.Equal(count, ids.Count);
        Assert.True(source.BackPressurePauses > 0);
    }
}
