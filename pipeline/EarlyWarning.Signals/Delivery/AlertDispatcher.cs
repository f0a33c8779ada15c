using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>What one dispatch did: counts, the ledger records it wrote, and problems worth an operator's attention.</summary>
public sealed record DispatchReport(
    int Matched, int Delivered, int Failed, int Rejected, int AlreadyDelivered, int NoChannel,
    IReadOnlyList<DeliveryRecord> Records, IReadOnlyList<string> Problems);

/// <summary>
/// Routes alerts (new or updated, as <c>SignalEngine.Drain</c> gives them) to the subscriptions they match and
/// delivers each through its channel, consulting and writing the <see cref="IDeliveryLedger"/>:
/// an alert already delivered (or refused for good) to a subscription is skipped unless its severity has risen
/// since, in which case the update is delivered with the idempotency key <c>id:severity</c>; the first delivery's key
/// is the alert id. Dismissed alerts are not delivered. A failed delivery is recorded and tried again on the next
/// dispatch of that alert. A subscription whose channel is not configured is reported, never silently dropped.
/// Dispatches run one at a time; within one, subscriptions are served concurrently, each in alert order.
/// </summary>
public sealed class AlertDispatcher : IDisposable
{
    private readonly IReadOnlyList<Subscription> _subscriptions;
    private readonly Dictionary<ChannelKind, IAlertChannel> _channels = [];
    private readonly IDeliveryLedger _ledger;
    private readonly TimeProvider _time;
    private readonly int _maxConcurrency;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public AlertDispatcher(IEnumerable<Subscription> subscriptions, IEnumerable<IAlertChannel> channels, IDeliveryLedger ledger,
        TimeProvider? time = null, int maxConcurrency = 4)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        _subscriptions = [.. subscriptions];
        var dup = _subscriptions.GroupBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"subscription id '{dup.Key}' is used twice", nameof(subscriptions));
        foreach (var c in channels)
            if (!_channels.TryAdd(c.Kind, c)) throw new ArgumentException($"two channels for {c.Kind}", nameof(channels));
        _ledger = ledger;
        _time = time ?? TimeProvider.System;
        _maxConcurrency = maxConcurrency;
    }

    public IReadOnlyList<Subscription> Subscriptions => _subscriptions;

    /// <summary>The key a delivery carries: the alert id, or <c>id:severity</c> for an update after a severity rise.</summary>
    public static string IdempotencyKey(Alert alert, bool isUpdate)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return isUpdate ? alert.Id + ":" + Alert.SeverityName(alert.Severity) : alert.Id;
    }

    public async Task<DispatchReport> DispatchAsync(IReadOnlyList<Alert> alerts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await DispatchCoreAsync(alerts, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<DispatchReport> DispatchCoreAsync(IReadOnlyList<Alert> alerts, CancellationToken ct)
    {
        var problems = new List<string>();
        var work = new List<(Subscription Sub, IAlertChannel Channel, List<Alert> Alerts)>();
        var noChannel = 0;
        var matched = 0;
        foreach (var sub in _subscriptions)
        {
            var mine = alerts.Where(a => a.Status != AlertStatus.Dismissed && sub.Matches(a)).ToList();
            if (mine.Count == 0) continue;
            matched += mine.Count;
            if (!_channels.TryGetValue(sub.Channel, out var channel))
            {
                noChannel += mine.Count;
                problems.Add($"subscription '{sub.Id}' matched {mine.Count} alert(s) but no {sub.Channel} channel is configured; not delivered");
                continue;
            }
            work.Add((sub, channel, mine));
        }

        var records = new List<DeliveryRecord>();
        var skipped = 0;
        var recordsGate = new Lock();
        using var slots = new SemaphoreSlim(_maxConcurrency);
        var tasks = work.Select(async w =>
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                foreach (var alert in w.Alerts)
                {
                    var (record, wasSkipped) = await DeliverOneAsync(alert, w.Sub, w.Channel, ct).ConfigureAwait(false);
                    lock (recordsGate)
                    {
                        if (wasSkipped) skipped++;
                        if (record is not null) records.Add(record);
                    }
                }
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        await Task.WhenAll(tasks).ConfigureAwait(false);

        foreach (var r in records.Where(r => r.Status != DeliveryStatus.Delivered))
            problems.Add($"alert {r.AlertId} to subscription '{r.SubscriptionId}' ({r.Channel}): {r.Status.ToString().ToLowerInvariant()} after {r.Attempts} attempt(s): {r.Detail}");
        return new DispatchReport(
            matched,
            records.Count(r => r.Status == DeliveryStatus.Delivered),
            records.Count(r => r.Status == DeliveryStatus.Failed),
            records.Count(r => r.Status == DeliveryStatus.Rejected),
            skipped, noChannel, records, problems);
    }

    private async Task<(DeliveryRecord? Record, bool Skipped)> DeliverOneAsync(Alert alert, Subscription sub, IAlertChannel channel, CancellationToken ct)
    {
        var last = await _ledger.GetLastSettledAsync(alert.Id, sub.Id, ct).ConfigureAwait(false);
        if (last is not null && alert.Severity <= last.Severity) return (null, true);
        var isUpdate = last is { Status: DeliveryStatus.Delivered };
        var key = IdempotencyKey(alert, isUpdate);
        var sentAt = _time.GetUtcNow();
        ChannelResult result;
        try
        {
            result = await channel.SendAsync(new DeliveryRequest(alert, sub, key, isUpdate, sentAt), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A channel bug must fail one delivery, recorded with its reason, not the whole dispatch.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            result = new ChannelResult(DeliveryStatus.Failed, 1, "channel error: " + ex.GetType().Name + ": " + ex.Message);
        }
        var record = new DeliveryRecord(alert.Id, sub.Id, sub.Channel, sub.Target, alert.Severity, result.Status, result.Attempts,
            _time.GetUtcNow(), key, result.Detail);
        // CancellationToken.None: a delivery that happened must be recorded even when shutdown was asked meanwhile.
        await _ledger.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
        return (record, false);
    }

    public void Dispose() => _gate.Dispose();
}
