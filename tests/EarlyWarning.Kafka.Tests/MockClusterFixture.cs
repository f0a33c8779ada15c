using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EarlyWarning.Kafka;
using EarlyWarning.Kafka.Mock;

namespace EarlyWarning.Kafka.Tests;

/// <summary>One 3-broker librdkafka mock cluster per test class; every test uses its own topics and groups.</summary>
public sealed class MockClusterFixture : IDisposable
{
    public MockKafkaCluster Cluster { get; } = MockKafkaCluster.Start(3);

    public string Bootstrap => Cluster.BootstrapServers;

    /// <summary>Consumer settings that make group operations quick against the mock.</summary>
    public static readonly IReadOnlyDictionary<string, string> FastGroup = new Dictionary<string, string>
    {
        ["session.timeout.ms"] = "3000", // the mock waits session timeout - 1 s for members to rejoin
        ["heartbeat.interval.ms"] = "300",
        ["fetch.wait.max.ms"] = "100",
    };

    /// <summary>A fresh topic with <paramref name="partitions"/> partitions (created natively; the mock ignores CreateTopics).</summary>
    public string NewTopic(int partitions)
    {
        var topic = "t-" + Guid.NewGuid().ToString("N")[..12];
        Cluster.CreateTopic(topic, partitions);
        return topic;
    }

    public static string NewGroup() => "g-" + Guid.NewGuid().ToString("N")[..12];

    public KafkaPostSource NewSource(string topic, string group, bool untilEnd = false, int bufferCapacity = 4096) =>
        new(new KafkaSourceOptions
        {
            BootstrapServers = Bootstrap,
            Topic = topic,
            GroupId = group,
            UntilEnd = untilEnd,
            BufferCapacity = bufferCapacity,
            Config = FastGroup,
            Log = Environment.GetEnvironmentVariable("EW_KAFKA_DEBUG") is null ? null : m => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {m}"),
        });

    public static byte[] Body(int i) => Encoding.UTF8.GetBytes("m" + i.ToString(CultureInfo.InvariantCulture));

    public static int IdOf(ReadOnlyMemory<byte> body) =>
        int.Parse(Encoding.UTF8.GetString(body.Span[1..]), CultureInfo.InvariantCulture);

    public IProducer<byte[]?, byte[]?> NewProducer() =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = Bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
        }).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();

    /// <summary>
    /// Produces messages <c>m{first}</c>..<c>m{first+count-1}</c>, message i to partition <c>i % partitions</c>, and waits for
    /// every delivery report. Returns the number of messages per partition.
    /// </summary>
    public Dictionary<int, int> Produce(string topic, int partitions, int count, int first = 0)
    {
        using var producer = NewProducer();
        var perPartition = ProduceNoWait(producer, topic, partitions, count, first, out var errors);
        var left = producer.Flush(TimeSpan.FromSeconds(30));
        Assert.Equal(0, left);
        Assert.Equal(0, errors());
        return perPartition;
    }

    /// <summary>Produces without waiting; <paramref name="errors"/> reads the delivery failures seen so far.</summary>
    public static Dictionary<int, int> ProduceNoWait(IProducer<byte[]?, byte[]?> producer, string topic, int partitions, int count, int first, out Func<int> errors)
    {
        var failed = 0;
        var perPartition = new Dictionary<int, int>();
        for (var i = first; i < first + count; i++)
        {
            var p = i % partitions;
            perPartition[p] = perPartition.GetValueOrDefault(p) + 1;
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, p), new Message<byte[]?, byte[]?> { Value = Body(i) },
                        r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        errors = () => Volatile.Read(ref failed);
        return perPartition;
    }

    /// <summary>Committed offsets of a group, read by a consumer that does not join the group.</summary>
    public Dictionary<int, long> Committed(string topic, string group, int partitions)
    {
        using var c = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = group })
            .SetLogHandler((_, _) => { }).Build();
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p));
        return c.Committed(tps, TimeSpan.FromSeconds(20)).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>Reads every record of a topic from the beginning with a plain assigned consumer (no group).</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int partitions, int expected, TimeSpan timeout)
    {
        using var c = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = NewGroup(),
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        c.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var list = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + timeout;
        while (list.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = c.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null && !r.IsPartitionEOF) list.Add(r);
        }
        return list;
    }

    public (int Leader, int[] Partitions) LeaderOf(string topic, int partition)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).SetLogHandler((_, _) => { }).Build();
        var md = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
        var leader = md.Partitions.Single(p => p.PartitionId == partition).Leader;
        return (leader, md.Partitions.Where(p => p.Leader == leader).Select(p => p.PartitionId).Order().ToArray());
    }

    public void Dispose() => Cluster.Dispose();
}

/// <summary>Waits on conditions with a timeout (no sleeps in the tests).</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException)
            {
                if (condition()) return;
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for: {what}");
            }
        }
    }
}
