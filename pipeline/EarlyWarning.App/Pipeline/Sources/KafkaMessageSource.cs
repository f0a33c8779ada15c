using System.Runtime.CompilerServices;
using EarlyWarning.Core.Posts;
using EarlyWarning.Kafka;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// A Kafka consumer group as a pipeline source. Positions are per partition (<c>kafka:TOPIC/P</c>); offsets are stored
/// for commit only after the store acknowledged them, and a restart resumes from the group's committed offsets.
/// </summary>
public sealed class KafkaMessageSource : IMessageSource, IAsyncDisposable
{
    private readonly KafkaPostSource _consumer;

    public KafkaMessageSource(KafkaAddress address, string groupId, bool untilEnd, TextWriter? log = null)
    {
        _consumer = new KafkaPostSource(new KafkaSourceOptions
        {
            BootstrapServers = address.BootstrapServers,
            Topic = address.Topic,
            GroupId = groupId,
            UntilEnd = untilEnd,
            Log = log is null ? null : m => log.WriteLine(m),
        });
        Name = $"kafka:{address.BootstrapServers}/{address.Topic}";
        IsFinite = untilEnd;
    }

    public string Name { get; }
    public bool IsFinite { get; }
    public KafkaPostSource Consumer => _consumer;

    /// <summary>Kafka resumes from the group's committed offsets; the store's checkpoint is not used to seek.</summary>
    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var m in _consumer.ReadAsync(ct).ConfigureAwait(false)) yield return m;
    }

    public void Acknowledge(IReadOnlyDictionary<string, long> checkpoints) => _consumer.Acknowledge(checkpoints);

    public ValueTask DisposeAsync() => _consumer.DisposeAsync();
}
