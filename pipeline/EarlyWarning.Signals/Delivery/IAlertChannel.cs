using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>One delivery to make: the alert, who gets it, its idempotency key, and whether it updates an earlier one.</summary>
public sealed record DeliveryRequest(Alert Alert, Subscription Subscription, string IdempotencyKey, bool IsUpdate, DateTimeOffset SentAt);

/// <summary>How a channel's attempts ended.</summary>
public sealed record ChannelResult(DeliveryStatus Status, int Attempts, string? Detail = null);

/// <summary>
/// A push channel (webhook, email, topic). <see cref="SendAsync"/> makes its own bounded retries and reports the
/// outcome; it throws only when cancelled.
/// </summary>
public interface IAlertChannel
{
    ChannelKind Kind { get; }

    Task<ChannelResult> SendAsync(DeliveryRequest request, CancellationToken ct);
}

/// <summary>
/// Writes alerts to a Kafka topic. Signals does not reference Kafka: the app implements this with the Kafka
/// library's <c>KafkaAlertSink</c> (keyed by alert id, so the key is the idempotency key). Throw
/// <see cref="ArgumentException"/> for a topic the writer cannot serve (the delivery is then rejected, not retried).
/// </summary>
public interface IAlertTopicWriter
{
    Task WriteAsync(string topic, IReadOnlyList<Alert> alerts, CancellationToken ct);
}

/// <summary>Bounded exponential back-off: attempt n waits InitialDelay × Factor^(n-1), at most MaxDelay.</summary>
public sealed record RetryPolicy
{
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    public double Factor { get; init; } = 2;

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan DelayAfter(int attempt)
    {
        var ms = InitialDelay.TotalMilliseconds * Math.Pow(Factor, Math.Max(0, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    internal void Validate()
    {
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "at least one attempt");
        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InitialDelay), "delays must not be negative");
        if (Factor < 1) throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "factor must be at least 1");
    }
}

/// <summary>Delivers to a topic through an <see cref="IAlertTopicWriter"/>, with bounded retries on failure.</summary>
public sealed class TopicChannel : IAlertChannel
{
    private readonly IAlertTopicWriter _writer;
    private readonly RetryPolicy _retry;
    private readonly TimeProvider _time;

    public TopicChannel(IAlertTopicWriter writer, RetryPolicy? retry = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _retry = retry ?? new RetryPolicy();
        _retry.Validate();
        _time = time ?? TimeProvider.System;
    }

    public ChannelKind Kind => ChannelKind.Topic;

    public async Task<ChannelResult> SendAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? last = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _writer.WriteAsync(request.Subscription.Target, [request.Alert], ct).ConfigureAwait(false);
                return new ChannelResult(DeliveryStatus.Delivered, attempt, "acknowledged by the topic writer");
            }
            catch (ArgumentException ex)
            {
                return new ChannelResult(DeliveryStatus.Rejected, attempt, ex.Message);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any writer failure is a failed attempt, reported with its type; the dispatcher carries on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                last = ex.GetType().Name + ": " + ex.Message;
            }
            if (attempt >= _retry.MaxAttempts) return new ChannelResult(DeliveryStatus.Failed, attempt, last);
            await Task.Delay(_retry.DelayAfter(attempt), _time, ct).ConfigureAwait(false);
        }
    }
}
