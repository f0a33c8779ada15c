using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.App.Http;

/// <summary>
/// Reports from partners (NGOs, field monitors) waiting to enter the pipeline: a bounded in-memory queue that the
/// <c>POST /api/reports</c> handler writes validated reports into and <see cref="Pipeline.Sources.ReportSource"/> reads.
/// Each report gets the next report number (its offset in the <c>reports</c> source, and its post id
/// <c>report:N</c>); numbering continues after the store's checkpoint so a restart does not reuse stored ids.
/// </summary>
public sealed class ReportIntake
{
    /// <summary>The source name (checkpoint key) of reports.</summary>
    public const string SourceName = "reports";

    /// <summary>Prefix of a report's post id.</summary>
    public const string PostIdPrefix = "report:";

    /// <summary>Prefix of the pseudonymous account a partner reports from (the pipeline pseudonymises it again).</summary>
    public const string AccountPrefix = "partner:";

    private const int MaxRemembered = 10_000;

    private readonly Channel<RawMessage> _queue;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<long, ReportRecord> _recent = new();
    private readonly ConcurrentQueue<long> _recentOrder = new();
    private long _last;
    private volatile bool _closed;

    /// <param name="lastNumber">The highest report number already used (the store's checkpoint for <see cref="SourceName"/>).</param>
    /// <param name="capacity">Reports queued at most; beyond that a report is refused (503) rather than held without bound.</param>
    public ReportIntake(long lastNumber = 0, int capacity = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastNumber);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _last = lastNumber;
        _queue = Channel.CreateBounded<RawMessage>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>An intake whose numbering continues after the store's checkpoint for reports.</summary>
    public static async Task<ReportIntake> OpenAsync(IPipelineStore store, int capacity = 1000, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var last = await store.GetCheckpointAsync(SourceName, ct).ConfigureAwait(false);
        return new ReportIntake(Math.Max(0, last ?? 0), capacity);
    }

    /// <summary>
    /// The pipeline's current event time (its latest post's <c>created_at</c>), used for reports that give no time, so
    /// a replay of a simulated past is not pushed to wall-clock "now" (which would close every bucket). Null: use now.
    /// </summary>
    public Func<DateTimeOffset?> EventTime { get; set; } = () => null;

    /// <summary>Maps a raw account id to what the store holds (the pipeline's pseudonymiser); identity by default.</summary>
    public Func<string, string> StoredAccount { get; set; } = static a => a;

    /// <summary>Wall clock for <c>received_at</c> and for the event time when the pipeline has none yet.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The highest report number given out so far.</summary>
    public long LastNumber => Interlocked.Read(ref _last);

    /// <summary>Reports accepted and not yet read by the pipeline.</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>False once the pipeline stopped reading reports.</summary>
    public bool IsOpen => !_closed;

    internal ChannelReader<RawMessage> Reader => _queue.Reader;

    /// <summary>The account id a reporter's reports carry as author (before the pipeline pseudonymises it).</summary>
    public static string AccountOf(string reporter) => AccountPrefix + reporter;

    /// <summary>The post id of report number <paramref name="number"/>.</summary>
    public static string PostIdOf(long number) => PostIdPrefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Queues a validated report from <paramref name="reporter"/>. Returns null with <paramref name="error"/> set when
    /// the queue is full or closed (the caller answers 503); the report number is not consumed then.
    /// </summary>
    public ReportRecord? TrySubmit(ReportRequest request, string reporter, out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(reporter);
        var received = Time.GetUtcNow();
        var createdAt = request.CreatedAt ?? EventTime() ?? received;
        lock (_gate)
        {
            // Number and enqueue under one lock, so offsets reach the pipeline in increasing order.
            if (_closed) { error = "the pipeline is no longer reading reports"; return null; }
            var number = _last + 1;
            var record = new ReportRecord(number, PostIdOf(number), reporter, received, createdAt);
            var bytes = ToPostJson(record, request);
            if (!_queue.Writer.TryWrite(new RawMessage(bytes, new SourcePosition(SourceName, number))))
            {
                error = "too many reports are waiting; retry in a minute";
                return null;
            }
            _last = number;
            Remember(record);
            error = null;
            return record;
        }
    }

    /// <summary>Stops accepting reports (the pipeline's report reader has ended).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>A report accepted by this process (the most recent ones are remembered), or null.</summary>
    public ReportRecord? Find(long number) => _recent.TryGetValue(number, out var r) ? r : null;

    private void Remember(ReportRecord record)
    {
        _recent[record.Number] = record;
        _recentOrder.Enqueue(record.Number);
        while (_recentOrder.Count > MaxRemembered && _recentOrder.TryDequeue(out var old)) _recent.TryRemove(old, out _);
    }

    /// <summary>The report as a post in DESIGN.md's input format, marked with its reporter.</summary>
    internal static byte[] ToPostJson(ReportRecord record, ReportRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + request.Text.Length * 3);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", record.PostId);
            w.WriteString("platform", "report");
            w.WriteString("created_at", record.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartObject("author");
            w.WriteString("id", AccountOf(record.ReportedBy));
            w.WriteEndObject();
            w.WriteString("text", request.Text);
            if (request.Lang is not null) w.WriteString("lang", request.Lang);
            if (request.Country is not null || request.Region is not null)
            {
                w.WriteStartObject("geo");
                if (request.Country is not null) w.WriteString("country", request.Country);
                if (request.Region is not null) w.WriteString("region", request.Region);
                w.WriteEndObject();
            }
            w.WriteString("reported_by", record.ReportedBy);
            w.WriteString("reported_at", record.ReceivedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            if (request.OriginalUrl is not null) w.WriteString("original_url", request.OriginalUrl);
            if (request.OriginalId is not null) w.WriteString("original_id", request.OriginalId);
            if (request.Note is not null) w.WriteString("report_note", request.Note);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>A validated report as a partner sent it (see <see cref="ReportsEndpoints"/> for the JSON and its limits).</summary>
public sealed record ReportRequest(
    string Text,
    string? Lang = null,
    string? Country = null,
    string? Region = null,
    DateTimeOffset? CreatedAt = null,
    string? OriginalUrl = null,
    string? OriginalId = null,
    string? Note = null);

/// <summary>A report the intake accepted: its number, post id, reporter, and when it was received and happened.</summary>
public sealed record ReportRecord(long Number, string PostId, string ReportedBy, DateTimeOffset ReceivedAt, DateTimeOffset CreatedAt);
