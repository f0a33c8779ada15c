using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Confluent.Kafka;
using EarlyWarning.App;
using EarlyWarning.App.Simulation;
using EarlyWarning.Kafka.Mock;

namespace EarlyWarning.Benchmarks.Kafka;

/// <summary>
/// End-to-end throughput from librdkafka's mock cluster (3 brokers, in this process): the whole pipeline
/// (<c>earlywarning run --source kafka:… --until-end</c>: decode, pseudonymise, classify, analyse, SQLite store, offsets
/// committed) against the baseline of a bare Confluent consumer reading the same topic on the same cluster, in the same
/// run. One operation = the whole topic (the simulator's election-day stream, seed 1, 50,000 posts keyed by region over 12
/// partitions) read by a fresh consumer group; throughput ratio = 1 / BenchmarkDotNet's Ratio column. The same pipeline
/// reading the same stream from a JSONL file is a second reference: it shows what the Kafka source itself costs.
/// In-process so that every case uses the one cluster.
/// </summary>
[Config(typeof(KafkaThroughputConfig))]
public class KafkaThroughputBenchmarks
{
    public const int Posts = 50_000;
    private const int Partitions = 12;

    private static readonly Lazy<Shared> State = new(Shared.Create);
    private int _run;

    [GlobalSetup]
    public void Setup() => _ = State.Value;

    [Benchmark(Baseline = true, Description = "bare Confluent consumer")]
    public long BareConsumer()
    {
        var s = State.Value;
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = s.Cluster.BootstrapServers,
            GroupId = "bench-bare-" + Interlocked.Increment(ref _run),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoOffsetStore = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(s.Topic);
        long seen = 0, bytes = 0;
        while (seen < s.Count)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"bare consumer stalled after {seen} messages");
            if (r.IsPartitionEOF) continue;
            consumer.StoreOffset(r);
            bytes += r.Message.Value.Length;
            seen++;
        }
        consumer.Close();
        return bytes;
    }

    [Benchmark(Description = "pipeline from Kafka")]
    public Task<int> PipelineFromKafka() =>
        RunAsync($"kafka:{State.Value.Cluster.BootstrapServers}/{State.Value.Topic}", "--group", "bench-pipe-" + Interlocked.Increment(ref _run));

    [Benchmark(Description = "pipeline from JSONL replay")]
    public Task<int> PipelineFromReplay() => RunAsync("replay:" + State.Value.Jsonl);

    private async Task<int> RunAsync(string source, params string[] extra)
    {
        var s = State.Value;
        var db = Path.Combine(s.Dir, $"run-{Interlocked.Increment(ref _run)}.db");
        string[] args = ["run", "--source", source, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", s.Dir, .. extra];
        var err = new StringWriter();
        var rc = await Cli.RunAsync(args, TextWriter.Null, err, TextReader.Null);
        if (rc != 0) throw new InvalidOperationException($"run failed ({rc}): {err}");
        foreach (var f in Directory.EnumerateFiles(s.Dir, Path.GetFileName(db) + "*")) File.Delete(f);
        return rc;
    }

    /// <summary>The cluster, the produced topic and the same stream as a JSONL file.</summary>
    private sealed record Shared(MockKafkaCluster Cluster, string Topic, string Jsonl, string Dir, int Count)
    {
        public static Shared Create()
        {
            var dir = Path.Combine(Path.GetTempPath(), "ew-bench-kafka-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(dir);
            var posts = new Simulator("election-day", 1, Posts).Generate().Select(p => p.Json).ToList();
            var jsonl = Path.Combine(dir, "stream.jsonl");
            using (var fs = File.Create(jsonl))
                foreach (var p in posts) { fs.Write(p); fs.WriteByte((byte)'\n'); }

            var cluster = MockKafkaCluster.Start(3);
            var topic = "bench-posts";
            cluster.CreateTopic(topic, Partitions);
            var partitionOf = new Dictionary<string, int>(StringComparer.Ordinal);
            var failed = 0;
            using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = cluster.BootstrapServers,
                EnableIdempotence = true,
                LingerMs = 10,
            }).SetLogHandler((_, _) => { }).Build())
            {
                foreach (var p in posts)
                {
                    // Keyed by region, one partition per region (the mock keeps only ~5 MB per partition, so no collisions).
                    var key = RegionKey(p);
                    if (!partitionOf.TryGetValue(key, out var partition)) partitionOf[key] = partition = partitionOf.Count % Partitions;
                    while (true)
                    {
                        try
                        {
                            producer.Produce(new TopicPartition(topic, partition), new Message<string, byte[]> { Key = key, Value = p },
                                r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                            break;
                        }
                        catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                        {
                            producer.Poll(TimeSpan.FromMilliseconds(20));
                        }
                    }
                }
                if (producer.Flush(TimeSpan.FromSeconds(60)) != 0 || failed != 0) throw new InvalidOperationException("producing the benchmark stream failed");
            }
            return new Shared(cluster, topic, jsonl, dir, posts.Count);
        }

        private static string RegionKey(byte[] json)
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("geo", out var g) && g.ValueKind == JsonValueKind.Object
                ? $"{Get(g, "country")}/{Get(g, "region")}" : "/";

            static string Get(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";
        }
    }
}

/// <summary>
/// One in-process job (all cases share the cluster), monitoring strategy: each operation is a whole run. Three warm-up
/// runs: with one, the pipeline cases were still speeding up run by run through the measured ones (Kafka 4.3 s warm-up,
/// then 3.8, 2.6, 2.1 s; BENCHMARKS.md, Kafka run 4), so the mean and its spread described the warm-up.
/// </summary>
public sealed class KafkaThroughputConfig : ManualConfig
{
    public KafkaThroughputConfig() =>
        AddJob(Job.Dry.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("KafkaInProcess"));
}
