using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Stores;
using EarlyWarning.Kafka.Mock;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Microsoft.Data.Sqlite;

namespace EarlyWarning.Integration.Tests;

/// <summary>The Kafka pipeline tests share one mock cluster and two produced streams; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class KafkaPipelineCollection : ICollectionFixture<KafkaPipelineFixture>
{
    public const string Name = "kafka pipeline";
}

/// <summary>
/// A 3-broker librdkafka mock cluster in the test process, and the simulator's election-day stream produced to it,
/// keyed by <c>country/region</c> (so each region's posts stay in order in one partition): the must-show stream
/// (seed 1, 50 000 posts) and a smaller one (seed 2) for the fault tests. Each stream also has its embedded run
/// (<c>run --source simulate</c>) as the reference, computed once on first use.
/// </summary>
public sealed class KafkaPipelineFixture : IAsyncLifetime
{
    /// <summary>Consumer settings that make group joins quick against the mock (it waits session timeout − 1 s for rejoins).</summary>
    public const string FastGroupConfig = "session.timeout.ms=3000;heartbeat.interval.ms=300;fetch.wait.max.ms=100";

    /// <summary>The mock keeps about 5 MB per partition and silently drops older data beyond it; stay well under.</summary>
    private const long MaxPartitionBytes = 4_500_000;

    private readonly ConcurrentDictionary<string, Lazy<Task<RunSnapshot>>> _baselines = new();

    public MockKafkaCluster Cluster { get; private set; } = null!;
    public string Bootstrap => Cluster.BootstrapServers;
    public string Dir { get; } = TestPaths.NewTempDir("ew-kafka");

    /// <summary>Holds the pseudonymisation key every run shares, so stored pseudonyms compare equal across runs.</summary>
    public string KeyDir => Path.Combine(Dir, "key");

    /// <summary>Seed 1, 50 000 posts: the equivalence must-show.</summary>
    public ProducedStream Large { get; private set; } = null!;

    /// <summary>Seed 2, 20 000 posts: scale-out, kill/restart and broker-outage tests.</summary>
    public ProducedStream Small { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(KafkaMessageSource.ConfigEnvironmentVariable, FastGroupConfig);
        Directory.CreateDirectory(KeyDir);
        Cluster = MockKafkaCluster.Start(3);
        Large = await ProduceStreamAsync(seed: 1, posts: 50_000, partitions: 12);
        Small = await ProduceStreamAsync(seed: 2, posts: 20_000, partitions: 6);
    }

    public Task DisposeAsync()
    {
        Cluster.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>The embedded run of a stream (simulator source, same seed and size), computed once.</summary>
    public Task<RunSnapshot> BaselineAsync(ProducedStream s) =>
        _baselines.GetOrAdd(s.Topic, _ => new Lazy<Task<RunSnapshot>>(async () =>
        {
            var db = Path.Combine(Dir, $"embedded-{s.Seed}.db");
            var (rc, _, err) = await EndToEndTests.RunCliAsync("run", "--source", "simulate", "--seed", s.Seed.ToString(CultureInfo.InvariantCulture),
                "--posts", s.PostsOption.ToString(CultureInfo.InvariantCulture), "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", KeyDir);
            Assert.True(rc == 0, $"embedded run failed ({rc}): {err}");
            return await RunSnapshot.ReadAsync(db);
        })).Value;

    /// <summary>Arguments of <c>run</c> reading a produced stream from Kafka into a SQLite store.</summary>
    public string[] KafkaRunArgs(ProducedStream s, string group, string db) =>
        ["run", "--source", $"kafka:{Bootstrap}/{s.Topic}", "--group", group, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", KeyDir];

    private async Task<ProducedStream> ProduceStreamAsync(int seed, int posts, int partitions)
    {
        var jsonl = Path.Combine(Dir, $"sim-{seed}.jsonl");
        var (rc, _, err) = await EndToEndTests.RunCliAsync("simulate", "--scenario", "election-day", "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--posts", posts.ToString(CultureInfo.InvariantCulture), "--out", jsonl);
        Assert.True(rc == 0, err);

        var topic = NewTopic(partitions, $"posts-{seed}");
        var ids = Produce(jsonl, topic, partitions);
        return new ProducedStream(seed, posts, topic, partitions, jsonl, ids);
    }

    /// <summary>A fresh topic with a chosen partition count (created natively; the mock does not answer CreateTopics).</summary>
    public string NewTopic(int partitions, string prefix = "posts")
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 17)];
        Cluster.CreateTopic(topic, partitions);
        return topic;
    }

    /// <summary>
    /// Produces a JSONL stream to a topic, keyed by <c>country/region</c>, and waits for every delivery report.
    /// Returns the post ids in stream order.
    /// </summary>
    public List<string> Produce(string jsonl, string topic, int partitions)
    {
        var ids = new List<string>();
        var bytes = new long[partitions];
        var failed = 0;
        var partitionOf = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = Bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 10,
        }).SetLogHandler((_, _) => { }).Build())
        {
            foreach (var line in File.ReadLines(jsonl))
            {
                if (line.Length == 0) continue;
                var value = System.Text.Encoding.UTF8.GetBytes(line);
                using var doc = JsonDocument.Parse(value);
                ids.Add(doc.RootElement.GetProperty("id").GetString()!);
                var key = doc.RootElement.TryGetProperty("geo", out var geo) && geo.ValueKind == JsonValueKind.Object
                    ? $"{Str(geo, "country")}/{Str(geo, "region")}" : "/";
                while (true)
                {
                    try
                    {
                        // One partition per region key (round-robin over the keys as they appear): the ordering a key gives,
                        // without the hash collisions that would push two big regions past the mock's per-partition limit.
                        if (!partitionOf.TryGetValue(key, out var partition)) partitionOf[key] = partition = partitionOf.Count % partitions;
                        producer.Produce(new TopicPartition(topic, partition), new Message<string, byte[]> { Key = key, Value = value }, r =>
                        {
                            if (r.Error.IsError) Interlocked.Increment(ref failed);
                            else Interlocked.Add(ref bytes[r.Partition.Value], r.Message.Value.Length + r.Message.Key.Length + 70);
                        });
                        break;
                    }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(20));
                    }
                }
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        Assert.Equal(0, failed);
        Assert.True(bytes.Max() < MaxPartitionBytes,
            $"a partition of {topic} holds {bytes.Max()} bytes; the mock would drop its oldest messages (use more partitions)");
        return ids;
    }

    private static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}

/// <summary>A simulated stream produced to a topic: its post ids in stream order.</summary>
public sealed record ProducedStream(int Seed, int PostsOption, string Topic, int Partitions, string Jsonl, IReadOnlyList<string> Ids);

/// <summary>What a run stored, reduced to what must agree between runs: each post's decision and each alert's identity.</summary>
public sealed record RunSnapshot(
    IReadOnlyDictionary<string, string> Decisions,
    IReadOnlyList<string> AlertKeys,
    IReadOnlyList<string> AlertIds,
    StoreCounts Counts)
{
    public static async Task<RunSnapshot> ReadAsync(string db)
    {
        StoreCounts counts;
        IReadOnlyList<EarlyWarning.Core.Alerts.Alert> alerts;
        await using (var store = new SqliteStore(db))
        {
            await store.InitializeAsync();
            counts = await store.GetCountsAsync();
            alerts = await store.GetAlertsAsync(new AlertQuery(Limit: 1_000_000));
        }
        var decisions = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT p.id, d.label, d.target, d.flagged, d.incitement, d.dehumanisation, p.author FROM posts p LEFT JOIN decisions d ON d.post_id = p.id";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                decisions[r.GetString(0)] = string.Create(CultureInfo.InvariantCulture,
                    $"{(r.IsDBNull(1) ? "-" : r.GetString(1))}|{(r.IsDBNull(2) ? "-" : r.GetString(2))}|{(r.IsDBNull(3) ? 0 : r.GetInt64(3))}|{(r.IsDBNull(4) ? 0 : r.GetDouble(4)):F4}|{(r.IsDBNull(5) ? 0 : r.GetDouble(5)):F4}|{r.GetString(6)}");
        }
        var keys = alerts.Select(Key).Order(StringComparer.Ordinal).ToList();
        return new RunSnapshot(decisions, keys, alerts.Select(a => a.Id).Order(StringComparer.Ordinal).ToList(), counts);
    }

    /// <summary>An alert's identity for comparison: kind, scope and window.</summary>
    public static string Key(EarlyWarning.Core.Alerts.Alert a) => string.Create(CultureInfo.InvariantCulture,
        $"{a.Kind} {a.Scope.Country}/{a.Scope.Region}/{a.Scope.TargetGroup}/{a.Scope.Language}/{a.Scope.Term} {a.WindowStart:O}..{a.WindowEnd:O}");

    /// <summary>Lines in one list and not the other, for a failure message (alert keys name scopes, not post text).</summary>
    public static string Diff(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        var missing = expected.Except(actual, StringComparer.Ordinal).Take(15).ToList();
        var extra = actual.Except(expected, StringComparer.Ordinal).Take(15).ToList();
        return $"expected {expected.Count}, got {actual.Count}\nmissing:\n  {string.Join("\n  ", missing)}\nextra:\n  {string.Join("\n  ", extra)}";
    }
}
