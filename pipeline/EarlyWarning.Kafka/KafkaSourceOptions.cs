namespace EarlyWarning.Kafka;

/// <summary>Settings of a <see cref="KafkaPostSource"/>.</summary>
public sealed class KafkaSourceOptions
{
    public required string BootstrapServers { get; init; }
    public string Topic { get; init; } = KafkaTopics.Posts;
    public string GroupId { get; init; } = "earlywarning";
    public string ClientId { get; init; } = "earlywarning-source";

    /// <summary>Stop when every assigned partition reached the high watermark seen at start (<c>run --until-end</c>).</summary>
    public bool UntilEnd { get; init; }

    /// <summary>Messages buffered between the consumer thread and the reader; when full, partitions are paused.</summary>
    public int BufferCapacity { get; init; } = 4096;

    /// <summary>How long start-up waits for metadata and watermarks.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When set, every partition assigned to this member starts at the given next offset (partition → offset), and
    /// partitions missing from it start at the beginning; the group's committed offsets are ignored. A pipeline whose
    /// stateful stages restored a checkpoint sets this to the offsets that state reflects. Null: committed offsets.
    /// </summary>
    public IReadOnlyDictionary<int, long>? StartOffsets { get; init; }

    /// <summary>Extra librdkafka properties (e.g. <c>session.timeout.ms</c>); they override the defaults.</summary>
    public IReadOnlyDictionary<string, string>? Config { get; init; }

    /// <summary>Receives client errors and rebalance events; null discards them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Options for an address parsed from <c>kafka:BOOTSTRAP[/TOPIC]</c>.</summary>
    public static KafkaSourceOptions FromAddress(KafkaAddress address, string groupId = "earlywarning", bool untilEnd = false) =>
        new() { BootstrapServers = address.BootstrapServers, Topic = address.Topic, GroupId = groupId, UntilEnd = untilEnd };
}
