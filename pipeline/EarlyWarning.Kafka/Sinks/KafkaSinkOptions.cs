namespace EarlyWarning.Kafka.Sinks;

/// <summary>Settings shared by the Kafka sinks. Every sink produces idempotently with <c>acks=all</c>.</summary>
public sealed class KafkaSinkOptions
{
    public required string BootstrapServers { get; init; }

    /// <summary>Topic to write; null uses the sink's default (<see cref="KafkaTopics"/>).</summary>
    public string? Topic { get; init; }

    public string ClientId { get; init; } = "earlywarning-sink";

    /// <summary>How long a write waits for its delivery reports before it fails.</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Extra librdkafka properties; they override the defaults.</summary>
    public IReadOnlyDictionary<string, string>? Config { get; init; }

    /// <summary>Receives client errors; null discards them.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>A write to a Kafka sink did not complete: some records were not acknowledged by the brokers.</summary>
public sealed class KafkaSinkException : Exception
{
    public KafkaSinkException() { }
    public KafkaSinkException(string message) : base(message) { }
    public KafkaSinkException(string message, Exception inner) : base(message, inner) { }

    /// <summary>How many records of the write failed.</summary>
    public int Failed { get; init; }
}
