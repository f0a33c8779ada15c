using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Posts;
using EarlyWarning.Kafka;

namespace EarlyWarning.Integration.Tests;

/// <summary>The app's Kafka source on its own: event-time merge across partitions, and seeking to state offsets.</summary>
[Collection(KafkaPipelineCollection.Name)]
public sealed class KafkaMessageSourceTests(KafkaPipelineFixture fx)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    /// <summary>Message i has event time T0 + i minutes and goes to partition i % partitions; partitions are produced one after another.</summary>
    private string ProduceSkewed(int partitions, int count)
    {
        var topic = fx.NewTopic(partitions, "merge");
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = fx.Bootstrap, EnableIdempotence = true })
            .SetLogHandler((_, _) => { }).Build();
        // Whole partitions in turn: a consumer fetching in produce order would see partition 0's late posts first.
        for (var p = 0; p < partitions; p++)
            for (var i = p; i < count; i += partitions)
                producer.Produce(new TopicPartition(topic, p), new Message<Null, byte[]> { Value = Post(i) });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        return topic;
    }

    private static byte[] Post(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $$"""{"id":"m:{{i}}","created_at":"{{T0.AddMinutes(i):yyyy-MM-ddTHH:mm:ssZ}}","author":{"id":"u:{{i % 5}}"},"text":"post {{i}}"}"""));

    private static int IdOf(RawMessage m)
    {
        using var doc = JsonDocument.Parse(m.Bytes);
        return int.Parse(doc.RootElement.GetProperty("id").GetString()!.AsSpan(2), CultureInfo.InvariantCulture);
    }

    private async Task<List<RawMessage>> ReadAllAsync(KafkaMessageSource source, IReadOnlyDictionary<string, long> stateOffsets)
    {
        Assert.Null(((IMessageSource)source).ResumeFrom(stateOffsets));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var list = new List<RawMessage>();
        await foreach (var m in source.ReadAsync(null, timeout.Token)) list.Add(m);
        Assert.False(timeout.IsCancellationRequested, "the source did not reach the end in time");
        return list;
    }

    [Fact]
    public async Task Partitions_are_merged_in_event_time_whatever_the_fetch_order()
    {
        const int partitions = 4, count = 2_000;
        var topic = ProduceSkewed(partitions, count);
        await using var source = new KafkaMessageSource(new KafkaAddress(fx.Bootstrap, topic), "g-merge-" + Guid.NewGuid().ToString("N")[..8], untilEnd: true);
        var read = await ReadAllAsync(source, new Dictionary<string, long>());

        Assert.Equal(Enumerable.Range(0, count), read.Select(IdOf));
        Assert.Equal(0, source.ForcedOutOfOrder);
    }

    [Fact]
    public async Task Every_partition_starts_after_the_offset_its_state_reflects_and_unnamed_ones_from_the_beginning()
    {
        const int partitions = 3, count = 300;
        var topic = ProduceSkewed(partitions, count);
        var group = "g-seek-" + Guid.NewGuid().ToString("N")[..8];
        // Partition 0 and 1 were observed up to offsets 49 and 9; partition 2 never was.
        var state = new Dictionary<string, long>
        {
            [KafkaAddress.SourceName(topic, 0)] = 49,
            [KafkaAddress.SourceName(topic, 1)] = 9,
            [KafkaAddress.SourceName("another-topic", 2)] = 70,
        };
        await using var source = new KafkaMessageSource(new KafkaAddress(fx.Bootstrap, topic), group, untilEnd: true);
        var read = await ReadAllAsync(source, state);

        var byPartition = read.GroupBy(m => m.Position.Source).ToDictionary(g => g.Key, g => g.Select(m => m.Position.Offset).ToList());
        Assert.Equal(Enumerable.Range(50, 50).Select(i => (long)i), byPartition[KafkaAddress.SourceName(topic, 0)]);
        Assert.Equal(Enumerable.Range(10, 90).Select(i => (long)i), byPartition[KafkaAddress.SourceName(topic, 1)]);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), byPartition[KafkaAddress.SourceName(topic, 2)]);
        // Still one event-time order across the partitions.
        var ids = read.Select(IdOf).ToList();
        Assert.Equal(ids.Order(), ids);
    }
}
