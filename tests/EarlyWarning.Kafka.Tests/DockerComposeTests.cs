using EarlyWarning.Kafka;
using EarlyWarning.Tests;
using YamlDotNet.RepresentationModel;

namespace EarlyWarning.Kafka.Tests;

/// <summary>No container engine runs here, so the compose file itself is checked against what the app expects.</summary>
public sealed class DockerComposeTests
{
    private static readonly Lazy<YamlMappingNode> Services = new(() =>
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(TestPaths.RepoRoot, "docker-compose.yml"));
        yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents.Single().RootNode;
        return (YamlMappingNode)root["services"];
    });

    private static YamlMappingNode Service(string name)
    {
        Assert.True(Services.Value.Children.ContainsKey(new YamlScalarNode(name)), $"service '{name}' missing");
        return (YamlMappingNode)Services.Value[name];
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static Dictionary<string, string> Env(YamlMappingNode service) =>
        Child(service, "environment") is YamlMappingNode env
            ? env.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "")
            : [];

    /// <summary>Published ports as container port → host port.</summary>
    private static Dictionary<int, int> Ports(YamlMappingNode service) =>
        Child(service, "ports") is YamlSequenceNode ports
            ? ports.Children.Select(p => ((YamlScalarNode)p).Value!.Split(':'))
                .ToDictionary(parts => int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture),
                              parts => int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture))
            : [];

    private static List<string> Command(YamlMappingNode service) =>
        Child(service, "command") switch
        {
            YamlSequenceNode seq => [.. seq.Children.Select(c => ((YamlScalarNode)c).Value!)],
            YamlScalarNode s => [.. s.Value!.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            _ => [],
        };

    private static string Option(List<string> args, string name)
    {
        var i = args.IndexOf(name);
        Assert.True(i >= 0 && i + 1 < args.Count, $"app command lacks {name}");
        return args[i + 1];
    }

    [Fact]
    public void Every_service_the_app_needs_is_there_with_a_healthcheck()
    {
        foreach (var name in new[] { "kafka", "kafka-init", "elasticsearch", "kibana", "app" }) Service(name);
        foreach (var name in new[] { "kafka", "elasticsearch", "kibana", "app" })
            Assert.NotNull(Child(Service(name), "healthcheck"));
        Assert.StartsWith("apache/kafka:", ((YamlScalarNode)Service("kafka")["image"]).Value, StringComparison.Ordinal);
        Assert.Matches(@"elasticsearch:8\.", ((YamlScalarNode)Service("elasticsearch")["image"]).Value!);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10", ((YamlScalarNode)Service("app")["image"]).Value, StringComparison.Ordinal);

        var dependsOn = (YamlMappingNode)Service("app")["depends_on"];
        Assert.Equal("service_completed_successfully", ((YamlScalarNode)((YamlMappingNode)dependsOn["kafka-init"])["condition"]).Value);
        Assert.Equal("service_healthy", ((YamlScalarNode)((YamlMappingNode)dependsOn["elasticsearch"])["condition"]).Value);
    }

    [Fact]
    public void Kafka_runs_in_kraft_mode_and_the_app_bootstraps_from_its_internal_listener()
    {
        var env = Env(Service("kafka"));
        Assert.Contains("controller", env["KAFKA_PROCESS_ROLES"], StringComparison.Ordinal);
        Assert.Contains("broker", env["KAFKA_PROCESS_ROLES"], StringComparison.Ordinal);
        Assert.False(env.ContainsKey("KAFKA_ZOOKEEPER_CONNECT"));
        var nodeId = env["KAFKA_NODE_ID"];
        Assert.StartsWith(nodeId + "@kafka:", env["KAFKA_CONTROLLER_QUORUM_VOTERS"], StringComparison.Ordinal);

        var advertised = env["KAFKA_ADVERTISED_LISTENERS"].Split(',')
            .Select(l => l.Split("://")).ToDictionary(p => p[0], p => p[1]);
        var source = Option(Command(Service("app")), "--source");
        Assert.True(KafkaAddress.TryParse(source, out var address, out var error), error);
        Assert.Equal(advertised["PLAINTEXT"], address.BootstrapServers);
        Assert.Equal(KafkaTopics.Posts, address.Topic);
        // The internal listener's port is the one the broker listens on.
        var port = address.BootstrapServers.Split(':')[1];
        Assert.Contains("PLAINTEXT://:" + port, env["KAFKA_LISTENERS"], StringComparison.Ordinal);
        // The host-facing listener is published on the same port it is advertised on.
        var external = int.Parse(advertised["EXTERNAL"].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(external, Ports(Service("kafka"))[external]);
    }

    [Fact]
    public void The_topic_setup_creates_every_topic_the_kafka_library_uses()
    {
        var script = string.Join('\n', Command(Service("kafka-init")));
        foreach (var topic in KafkaTopics.All)
            Assert.Contains($"--topic {topic} ", script, StringComparison.Ordinal);
        Assert.Contains("--bootstrap-server", script, StringComparison.Ordinal);
        Assert.Contains("b=kafka:9092", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Elasticsearch_url_and_dashboard_port_agree_with_the_app()
    {
        var es = Env(Service("elasticsearch"));
        Assert.Equal("single-node", es["discovery.type"]);
        Assert.Equal("false", es["xpack.security.enabled"]);
        Assert.Equal(9200, Ports(Service("elasticsearch"))[9200]);

        var args = Command(Service("app"));
        Assert.Equal("run", args[args.IndexOf("--") + 1]);
        var store = Option(args, "--store");
        Assert.StartsWith("elasticsearch:", store, StringComparison.Ordinal);
        var url = new Uri(store["elasticsearch:".Length..]);
        Assert.Equal("elasticsearch", url.Host);
        Assert.Equal(9200, url.Port);
        Assert.Equal(url.ToString().TrimEnd('/'), Env(Service("kibana"))["ELASTICSEARCH_HOSTS"].TrimEnd('/'));

        Assert.Equal("5080", Option(args, "--port"));
        Assert.Equal(5080, Ports(Service("app"))[5080]);
        Assert.Contains("5080", ((YamlSequenceNode)Service("app")["healthcheck"]["test"]).Children.Select(c => ((YamlScalarNode)c).Value).Last(), StringComparison.Ordinal);
    }
}
