using System.Threading.Channels;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// Hands stored alerts to the <see cref="AlertDispatcher"/> on its own task, so a slow webhook or mail server never
/// holds up the store stage. Alerts are queued only after the store acknowledged them (links then resolve), through a
/// bounded queue; the delivery ledger makes a replay or restart deliver nothing twice.
/// </summary>
public sealed class AlertDelivery : IAsyncDisposable
{
    private readonly AlertDispatcher _dispatcher;
    private readonly TextWriter _log;
    private readonly Channel<IReadOnlyList<Alert>> _queue = Channel.CreateBounded<IReadOnlyList<Alert>>(
        new BoundedChannelOptions(256) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _worker;

    public AlertDelivery(AlertDispatcher dispatcher, TextWriter log)
    {
        _dispatcher = dispatcher;
        _log = log;
        _worker = Task.Run(RunAsync);
    }

    public long Delivered { get; private set; }
    public long Failed { get; private set; }

    /// <summary>Queues alerts that are durable in the store.</summary>
    public ValueTask EnqueueAsync(IReadOnlyList<Alert> alerts) =>
        alerts.Count == 0 ? ValueTask.CompletedTask : _queue.Writer.WriteAsync([.. alerts]);

    private async Task RunAsync()
    {
        await foreach (var alerts in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var report = await _dispatcher.DispatchAsync(alerts, CancellationToken.None).ConfigureAwait(false);
                Delivered += report.Delivered;
                Failed += report.Failed;
                foreach (var p in report.Problems) _log.WriteLine($"delivery: {p}");
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                // The dispatcher records per-delivery failures itself; this guards the loop against anything else.
                _log.WriteLine($"delivery: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>Delivers what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }
}
