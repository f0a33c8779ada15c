using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>Outcome of one delivery of one alert to one subscription.</summary>
public enum DeliveryStatus
{
    /// <summary>The channel accepted it (2xx, SMTP 250, broker ack).</summary>
    Delivered = 0,
    /// <summary>Transient failures until the retry budget ran out; the next dispatch tries again.</summary>
    Failed = 1,
    /// <summary>The receiver refused it for good (a 4xx, a bad address); not retried until the alert changes.</summary>
    Rejected = 2,
}

/// <summary>
/// One line of the delivery record: who (subscription, channel, target) was notified of which alert at what
/// severity, when, with which idempotency key, how many attempts it took and how it ended.
/// </summary>
public sealed record DeliveryRecord(
    string AlertId, string SubscriptionId, ChannelKind Channel, string Target, Severity Severity, DeliveryStatus Status,
    int Attempts, DateTimeOffset At, string IdempotencyKey, string? Detail = null);

/// <summary>
/// The record of deliveries the dispatcher consults before sending, so a replay or restart delivers nothing twice.
/// Implementations must make <see cref="AppendAsync"/> durable before returning.
/// </summary>
public interface IDeliveryLedger
{
    /// <summary>The last record of this alert for this subscription whose status is not <see cref="DeliveryStatus.Failed"/>, or null.</summary>
    ValueTask<DeliveryRecord?> GetLastSettledAsync(string alertId, string subscriptionId, CancellationToken ct = default);

    /// <summary>Appends a record (durably).</summary>
    ValueTask AppendAsync(DeliveryRecord record, CancellationToken ct = default);

    /// <summary>All records, or those of one alert, oldest first.</summary>
    ValueTask<IReadOnlyList<DeliveryRecord>> GetRecordsAsync(string? alertId = null, CancellationToken ct = default);
}

/// <summary>A ledger in memory: for tests and for runs that need no restart safety.</summary>
public class InMemoryDeliveryLedger : IDeliveryLedger
{
    private readonly Lock _gate = new();
    private readonly List<DeliveryRecord> _records = [];
    private readonly Dictionary<(string, string), DeliveryRecord> _settled = [];

    public ValueTask<DeliveryRecord?> GetLastSettledAsync(string alertId, string subscriptionId, CancellationToken ct = default)
    {
        lock (_gate) return ValueTask.FromResult(_settled.GetValueOrDefault((alertId, subscriptionId)));
    }

    public virtual ValueTask AppendAsync(DeliveryRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        Add(record);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<DeliveryRecord>> GetRecordsAsync(string? alertId = null, CancellationToken ct = default)
    {
        lock (_gate)
            return ValueTask.FromResult<IReadOnlyList<DeliveryRecord>>(alertId is null ? [.. _records] : [.. _records.Where(r => r.AlertId == alertId)]);
    }

    /// <summary>Adds a record to the in-memory view.</summary>
    protected void Add(DeliveryRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            _records.Add(record);
            if (record.Status != DeliveryStatus.Failed) _settled[(record.AlertId, record.SubscriptionId)] = record;
        }
    }
}

/// <summary>
/// A durable ledger as an append-only JSON Lines file: one record per line, flushed to disk before
/// <see cref="AppendAsync"/> returns, read back whole on open. A torn last line (a crash mid-write) or any other
/// unreadable line is counted in <see cref="UnreadableLines"/> and skipped, never fatal.
/// </summary>
public sealed class JsonlDeliveryLedger : InMemoryDeliveryLedger, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly FileStream _file;
    private readonly SemaphoreSlim _write = new(1, 1);

    private JsonlDeliveryLedger(FileStream file) => _file = file;

    /// <summary>The file's path.</summary>
    public string Path => _file.Name;

    /// <summary>Lines of the file that could not be read as a record when it was opened.</summary>
    public int UnreadableLines { get; private set; }

    /// <summary>Opens (or creates) the ledger file and loads what it holds.</summary>
    public static JsonlDeliveryLedger Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var ledger = new JsonlDeliveryLedger(file);
        try
        {
            ledger.Load();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return ledger;
    }

    private void Load()
    {
        using (var reader = new StreamReader(_file, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, leaveOpen: true))
        {
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0) continue;
                DeliveryRecord? r = null;
                try
                {
                    r = JsonSerializer.Deserialize<DeliveryRecord>(line, Json);
                }
                catch (JsonException)
                {
                    // Counted below.
                }
                if (r is null || string.IsNullOrEmpty(r.AlertId) || string.IsNullOrEmpty(r.SubscriptionId)) UnreadableLines++;
                else Add(r);
            }
        }
        // A torn last line must not swallow the next record: end it before appending.
        if (_file.Length > 0)
        {
            _file.Seek(-1, SeekOrigin.End);
            var last = _file.ReadByte();
            _file.Seek(0, SeekOrigin.End);
            if (last != '\n') _file.WriteByte((byte)'\n');
        }
        _file.Seek(0, SeekOrigin.End);
    }

    public override async ValueTask AppendAsync(DeliveryRecord record, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, Json);
        await _write.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _file.WriteAsync(bytes, ct).ConfigureAwait(false);
            _file.WriteByte((byte)'\n');
            _file.Flush(flushToDisk: true);
        }
        finally
        {
            _write.Release();
        }
        Add(record);
    }

    public void Dispose()
    {
        _file.Dispose();
        _write.Dispose();
    }
}
