using EarlyWarning.Kafka;
using EarlyWarning.Kafka.Mock;

namespace EarlyWarning.Kafka.Tests;

public sealed class KafkaAddressTests
{
    [Theory]
    [InlineData("kafka:kafka:9092/posts", "kafka:9092", "posts")]
    [InlineData("kafka:localhost:9094", "localhost:9094", "posts")]
    [InlineData("kafka:h1:9092,h2:9093/posts.enriched", "h1:9092,h2:9093", "posts.enriched")]
    [InlineData("127.0.0.1:1234/t_1-x", "127.0.0.1:1234", "t_1-x")]
    public void Parses_the_command_line_form(string spec, string bootstrap, string topic)
    {
        Assert.True(KafkaAddress.TryParse(spec, out var a, out var error), error);
        Assert.Equal(bootstrap, a.BootstrapServers);
        Assert.Equal(topic, a.Topic);
    }

    [Theory]
    [InlineData("")]
    [InlineData("kafka:")]
    [InlineData("kafka:/posts")]
    [InlineData("kafka:host/posts")]
    [InlineData("kafka:host:99999/posts")]
    [InlineData("kafka:host:9092/bad topic")]
    [InlineData("kafka:host:9092/")]
    public void Rejects_bad_addresses_with_a_reason(string spec)
    {
        Assert.False(KafkaAddress.TryParse(spec, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Source_names_round_trip()
    {
        var name = KafkaAddress.SourceName("posts.enriched", 11);
        Assert.Equal("kafka:posts.enriched/11", name);
        Assert.True(KafkaAddress.TryParseSourceName(name, out var topic, out var partition));
        Assert.Equal(("posts.enriched", 11), (topic, partition));
        Assert.False(KafkaAddress.TryParseSourceName("replay:/x/y.jsonl", out _, out _));
        Assert.False(KafkaAddress.TryParseSourceName("kafka:posts/x", out _, out _));
    }

    [Fact]
    public void The_mock_cluster_runs_in_the_librdkafka_copy_confluent_loaded()
    {
        using var cluster = MockKafkaCluster.Start(1);
        cluster.CreateTopic("native-check", 2);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", cluster.BootstrapServers);
        var path = MockKafkaCluster.NativeLibraryPath;
        Assert.NotNull(path);
        Assert.True(File.Exists(path));
        var confluentDir = Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location)!;
        Assert.StartsWith(confluentDir, path, StringComparison.Ordinal);
        // Exactly one librdkafka build is mapped: ours did not load a second copy.
        var mapped = File.ReadLines("/proc/self/maps").Where(l => l.Contains("librdkafka", StringComparison.Ordinal))
            .Select(l => l[l.IndexOf('/', StringComparison.Ordinal)..]).Distinct().ToList();
        Assert.Equal([path], mapped);
    }
}
