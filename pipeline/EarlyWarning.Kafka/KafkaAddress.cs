using System.Globalization;

namespace EarlyWarning.Kafka;

/// <summary>Topic names the pipeline uses (DESIGN.md, data flow; docker-compose.yml creates them).</summary>
public static class KafkaTopics
{
    public const string Posts = "posts";
    public const string PostsEnriched = "posts.enriched";
    public const string Alerts = "alerts";
    public const string DeadLetter = "posts.deadletter";
    public static readonly string[] All = [Posts, PostsEnriched, Alerts, DeadLetter];
}

/// <summary>
/// A Kafka source address as the command line writes it: <c>kafka:BOOTSTRAP[/TOPIC]</c>, where BOOTSTRAP is one or
/// more <c>host:port</c> separated by commas and TOPIC defaults to <see cref="KafkaTopics.Posts"/>.
/// </summary>
public readonly record struct KafkaAddress(string BootstrapServers, string Topic)
{
    public const string Scheme = "kafka:";

    /// <summary>Parses <c>kafka:BOOTSTRAP[/TOPIC]</c> (the <c>kafka:</c> prefix is optional). Reports why it fails.</summary>
    public static bool TryParse(string? spec, out KafkaAddress address, out string? error)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(spec)) { error = "empty kafka address"; return false; }
        var s = spec.StartsWith(Scheme, StringComparison.Ordinal) ? spec[Scheme.Length..] : spec;
        var topic = KafkaTopics.Posts;
        var slash = s.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            topic = s[(slash + 1)..];
            s = s[..slash];
            if (!IsValidTopic(topic)) { error = $"invalid topic name '{topic}'"; return false; }
        }
        if (s.Length == 0) { error = "missing bootstrap servers"; return false; }
        foreach (var server in s.Split(','))
        {
            var colon = server.LastIndexOf(':');
            if (colon <= 0 || colon == server.Length - 1
                || !int.TryParse(server.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                error = $"bootstrap server '{server}' is not host:port";
                return false;
            }
        }
        address = new KafkaAddress(s, topic);
        error = null;
        return true;
    }

    /// <summary>Kafka's rule for topic names: 1..249 characters of ASCII letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidTopic(string topic) =>
        topic.Length is > 0 and <= 249 && topic is not "." and not ".."
        && topic.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < 0;

    /// <summary>The <see cref="Core.Posts.SourcePosition.Source"/> name of one partition: <c>kafka:TOPIC/PARTITION</c>.</summary>
    public static string SourceName(string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{Scheme}{topic}/{partition}");

    /// <summary>Inverse of <see cref="SourceName"/>.</summary>
    public static bool TryParseSourceName(string? source, out string topic, out int partition)
    {
        topic = string.Empty;
        partition = -1;
        if (source is null || !source.StartsWith(Scheme, StringComparison.Ordinal)) return false;
        var slash = source.LastIndexOf('/');
        if (slash <= Scheme.Length) return false;
        if (!int.TryParse(source.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out partition)) return false;
        topic = source[Scheme.Length..slash];
        return IsValidTopic(topic);
    }

    public override string ToString() => $"{Scheme}{BootstrapServers}/{Topic}";
}
