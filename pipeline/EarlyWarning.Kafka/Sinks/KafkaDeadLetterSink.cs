using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Kafka.Sinks;

/// <summary>
/// Writes undecodable messages to the dead-letter topic: the original bytes as the value, keyed by
/// <c>source@offset</c> (so a replay rewrites the same key), with the reason and origin in headers.
/// </summary>
public sealed class KafkaDeadLetterSink : KafkaProducerSink
{
    public const string ReasonHeader = "reason";
    public const string SourceHeader = "source";
    public const string OffsetHeader = "offset";
    public const string ReceivedAtHeader = "received_at";

    public KafkaDeadLetterSink(KafkaSinkOptions options) : base(options, KafkaTopics.DeadLetter) { }

    /// <summary>Produces the dead letters and returns once all are acknowledged by the brokers.</summary>
    public Task WriteAsync(IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        var records = new List<Message<byte[]?, byte[]?>>(deadLetters.Count);
        foreach (var d in deadLetters) records.Add(ToMessage(d));
        return ProduceAllAsync(records, cancellationToken);
    }

    /// <summary>The Kafka record for one dead letter.</summary>
    public static Message<byte[]?, byte[]?> ToMessage(DeadLetter deadLetter)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        var offset = deadLetter.Position.Offset.ToString(CultureInfo.InvariantCulture);
        return new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes(deadLetter.Position.Source + "@" + offset),
            Value = deadLetter.Bytes.ToArray(),
            Timestamp = new Timestamp(deadLetter.ReceivedAt),
            Headers = new Headers
            {
                { ReasonHeader, Encoding.UTF8.GetBytes(deadLetter.Reason) },
                { SourceHeader, Encoding.UTF8.GetBytes(deadLetter.Position.Source) },
                { OffsetHeader, Encoding.UTF8.GetBytes(offset) },
                { ReceivedAtHeader, Encoding.UTF8.GetBytes(deadLetter.ReceivedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)) },
            },
        };
    }
}
