using System.Text;
using Confluent.Kafka;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Kafka.Sinks;

/// <summary>
/// Writes alerts to the <c>alerts</c> topic as JSON (<see cref="AlertJson"/>), keyed by alert id: an alert updated
/// later lands on the same partition after its first version, and a compacted topic keeps the latest.
/// </summary>
public sealed class KafkaAlertSink : KafkaProducerSink
{
    public KafkaAlertSink(KafkaSinkOptions options) : base(options, KafkaTopics.Alerts) { }

    /// <summary>Produces the alerts and returns once all are acknowledged by the brokers.</summary>
    public Task WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        var records = new List<Message<byte[]?, byte[]?>>(alerts.Count);
        foreach (var a in alerts)
            records.Add(new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(a.Id), Value = AlertJson.Serialize(a) });
        return ProduceAllAsync(records, cancellationToken);
    }
}
