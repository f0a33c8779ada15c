using Confluent.Kafka;

namespace EarlyWarning.Kafka.Sinks;

/// <summary>
/// Base of the sinks: one idempotent producer (<c>enable.idempotence=true</c>, <c>acks=all</c>) and a batch write
/// that returns only when the brokers acknowledged every record, so a pipeline can treat a sink like a store.
/// </summary>
public abstract class KafkaProducerSink : IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly KafkaSinkOptions _options;
    private long _produced;

    protected KafkaProducerSink(KafkaSinkOptions options, string defaultTopic)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Topic = options.Topic ?? defaultTopic;
        if (!KafkaAddress.IsValidTopic(Topic)) throw new ArgumentException($"invalid topic name '{Topic}'", nameof(options));
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = options.ClientId,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            MessageTimeoutMs = (int)Math.Min(int.MaxValue, options.DeliveryTimeout.TotalMilliseconds),
        };
        if (options.Config is not null)
            foreach (var (k, v) in options.Config) config.Set(k, v);
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => options.Log?.Invoke($"kafka producer error {e.Code}: {e.Reason}"))
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) options.Log?.Invoke($"librdkafka {m.Level}: {m.Message}"); })
            .Build();
    }

    /// <summary>The topic this sink writes.</summary>
    public string Topic { get; }

    /// <summary>Records acknowledged by the brokers so far.</summary>
    public long Produced => Interlocked.Read(ref _produced);

    /// <summary>
    /// Produces all records and waits for every delivery report. Throws <see cref="KafkaSinkException"/> naming how
    /// many failed and the first reason; records that did succeed are not rolled back (consumers are idempotent by key).
    /// </summary>
    protected async Task ProduceAllAsync(IReadOnlyList<Message<byte[]?, byte[]?>> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) return;
        var remaining = records.Count;
        var failed = 0;
        string? firstError = null;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnDelivery(DeliveryReport<byte[]?, byte[]?> report)
        {
            if (report.Error.IsError)
            {
                if (Interlocked.Increment(ref failed) == 1) firstError = $"{report.Error.Code}: {report.Error.Reason}";
            }
            else
            {
                Interlocked.Increment(ref _produced);
            }
            if (Interlocked.Decrement(ref remaining) == 0) done.TrySetResult();
        }

        var handler = (Action<DeliveryReport<byte[]?, byte[]?>>)OnDelivery;
        for (var i = 0; i < records.Count; i++)
        {
            while (true)
            {
                try
                {
                    _producer.Produce(Topic, records[i], handler);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The local queue is full: let librdkafka send, then retry this record.
                    _producer.Poll(TimeSpan.FromMilliseconds(50));
                }
                catch (ProduceException<byte[]?, byte[]?> e)
                {
                    OnDelivery(new DeliveryReport<byte[]?, byte[]?> { Error = e.Error, Message = records[i] });
                    break;
                }
            }
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DeliveryTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await done.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KafkaSinkException($"{Volatile.Read(ref remaining)} of {records.Count} records to '{Topic}' got no delivery report in time")
            { Failed = Volatile.Read(ref remaining) };
        }
        if (failed > 0)
            throw new KafkaSinkException($"{failed} of {records.Count} records to '{Topic}' failed; first: {firstError}") { Failed = failed };
    }

    /// <summary>Waits until everything produced so far is delivered (or the timeout passes).</summary>
    public void Flush(TimeSpan timeout) => _producer.Flush(timeout);

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
