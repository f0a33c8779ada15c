using System.Net.Http;
using System.Text.Json;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>What a bulk item is, which decides what its failures mean.</summary>
internal enum BulkItemKind : byte
{
    Post,
    Alert,
    Aggregate,
    /// <summary>Written with <c>create</c>: a 409 means "already stored", which is success.</summary>
    DeadLetter,
    /// <summary>Written with an external version equal to the offset: a 409 means "a later offset is stored", which is success.</summary>
    Checkpoint,
    State,
}

/// <summary>One item inside a bulk body: where its two lines are, and what to do if Elasticsearch refuses it.</summary>
internal struct BulkItem
{
    public BulkItemKind Kind;
    public int Start;
    public int SourceStart;
    public int End;
    public string Id;
    /// <summary>For a refused post: its source position (the dead letter's identity); for other kinds: null.</summary>
    public string? DeadLetterSource;
    public long DeadLetterOffset;
}

/// <summary>An item Elasticsearch refused for good (mapping error etc.), on its way to the dead-letter index.</summary>
internal sealed record BulkRejection(BulkItemKind Kind, string Id, string Source, long Offset, int Status, string Reason, string? Detail, byte[] Document);

/// <summary>
/// Builds <c>_bulk</c> NDJSON with <see cref="Utf8JsonWriter"/> into a pooled buffer, cuts it into requests of at most
/// <see cref="ElasticsearchOptions.MaxBulkBytes"/>, and sends them one at a time (so in-flight bytes stay bounded).
/// Per item: 2xx is done; 429 and 5xx are retried with exponential back-off and full jitter up to
/// <see cref="ElasticsearchOptions.MaxAttempts"/>; other refusals (mapping errors) are collected as rejections for the
/// dead-letter index, never retried. A whole request answered 429/502/503/504, or lost on the network, is retried the same way.
/// Not thread-safe: one indexer per write.
/// </summary>
internal sealed class BulkIndexer : IDisposable
{
    private readonly ElasticsearchClient _client;
    private readonly ElasticsearchOptions _options;
    private readonly ElasticsearchStoreStats _stats;
    private readonly Func<int, TimeSpan> _backoff;
    private readonly PooledByteBuffer _buffer;
    private readonly Utf8JsonWriter _writer;
    private readonly List<BulkItem> _items = [];

    public BulkIndexer(ElasticsearchClient client, ElasticsearchOptions options, ElasticsearchStoreStats stats, Func<int, TimeSpan> backoff)
    {
        _client = client;
        _options = options;
        _stats = stats;
        _backoff = backoff;
        _buffer = new PooledByteBuffer(Math.Min(options.MaxBulkBytes, 256 * 1024));
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = false });
    }

    /// <summary>Items refused for good so far (the caller dead-letters them or fails).</summary>
    public List<BulkRejection> Rejections { get; } = [];

    /// <summary>Appends one action line and one source line; sends what is buffered first when the limit would be passed.</summary>
    public async Task AddAsync(BulkItemKind kind, string action, string index, string id, Action<Utf8JsonWriter> writeSource,
        Action<Utf8JsonWriter>? writeExtraMetadata = null, string? deadLetterSource = null, long deadLetterOffset = 0,
        CancellationToken ct = default)
    {
        var start = _buffer.Length;
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteStartObject(action);
        _writer.WriteString("_index", index);
        _writer.WriteString("_id", id);
        writeExtraMetadata?.Invoke(_writer);
        _writer.WriteEndObject();
        _writer.WriteEndObject();
        _writer.Flush();
        _buffer.WriteByte((byte)'\n');
        var sourceStart = _buffer.Length;
        _writer.Reset(_buffer);
        writeSource(_writer);
        _writer.Flush();
        _buffer.WriteByte((byte)'\n');
        _items.Add(new BulkItem
        {
            Kind = kind, Start = start, SourceStart = sourceStart, End = _buffer.Length, Id = id,
            DeadLetterSource = deadLetterSource, DeadLetterOffset = deadLetterOffset,
        });

        if (_buffer.Length <= _options.MaxBulkBytes) return;
        if (_items.Count > 1)
        {
            // Send everything before the item that passed the limit, then keep that item as the start of the next request.
            var last = _items[^1];
            _items.RemoveAt(_items.Count - 1);
            await SendAsync(_buffer.WrittenMemory[..last.Start], _items, ct).ConfigureAwait(false);
            _items.Clear();
            _buffer.RemovePrefix(last.Start);
            var shift = last.Start;
            last.Start -= shift;
            last.SourceStart -= shift;
            last.End -= shift;
            _items.Add(last);
        }
        if (_buffer.Length > _options.MaxBulkBytes) await FlushAsync(ct).ConfigureAwait(false); // one document larger than the limit travels alone
    }

    /// <summary>Sends whatever is buffered.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_items.Count == 0) return;
        await SendAsync(_buffer.WrittenMemory, _items, ct).ConfigureAwait(false);
        _items.Clear();
        _buffer.Clear();
    }

    private async Task SendAsync(ReadOnlyMemory<byte> body, List<BulkItem> items, CancellationToken ct)
    {
        var current = items;
        var currentBody = body;
        PooledByteBuffer? retryBuffer = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var results = await SendRequestAsync(currentBody, current.Count, ct).ConfigureAwait(false);
                List<BulkItem>? retry = null;
                BulkItemResult lastRetryable = default;
                for (var i = 0; i < current.Count; i++)
                {
                    var item = current[i];
                    var r = results[i];
                    switch (Classify(item.Kind, r.Status))
                    {
                        case Outcome.Done:
                            break;
                        case Outcome.Retry:
                            (retry ??= []).Add(item);
                            lastRetryable = r;
                            break;
                        default:
                            Reject(item, r, currentBody.Span);
                            break;
                    }
                }
                if (retry is null) return;
                _stats.AddItemRetries(retry.Count);
                if (attempt >= _options.MaxAttempts)
                {
                    throw new ElasticsearchBulkException(lastRetryable.Status, lastRetryable.ErrorType,
                        $"{retry.Count} bulk item(s) still failing after {attempt} attempts; last: HTTP {lastRetryable.Status} {lastRetryable.ErrorType}: {lastRetryable.ErrorReason}",
                        retry.Count);
                }
                await Task.Delay(_backoff(attempt), ct).ConfigureAwait(false);

                // Only the failed items go again: copy their lines into a fresh body.
                var next = new PooledByteBuffer(Math.Max(1024, retry.Sum(x => x.End - x.Start)));
                var rebased = new List<BulkItem>(retry.Count);
                foreach (var item in retry)
                {
                    var copy = item;
                    var offset = next.Length - item.Start;
                    next.Write(currentBody.Span[item.Start..item.End]);
                    copy.Start += offset;
                    copy.SourceStart += offset;
                    copy.End += offset;
                    rebased.Add(copy);
                }
                retryBuffer?.Dispose();
                retryBuffer = next;
                currentBody = next.WrittenMemory;
                current = rebased;
            }
        }
        finally
        {
            retryBuffer?.Dispose();
        }
    }

    private enum Outcome { Done, Retry, Reject }

    private static Outcome Classify(BulkItemKind kind, int status) => status switch
    {
        >= 200 and < 300 => Outcome.Done,
        409 when kind is BulkItemKind.Checkpoint or BulkItemKind.DeadLetter => Outcome.Done,
        409 when kind is BulkItemKind.Alert => Outcome.Retry, // a concurrent status update won the race; the partial update is safe to repeat
        429 or >= 500 => Outcome.Retry,
        _ => Outcome.Reject,
    };

    private void Reject(BulkItem item, BulkItemResult r, ReadOnlySpan<byte> body)
    {
        var source = item.DeadLetterSource ?? "elasticsearch:" + item.Kind.ToString().ToLowerInvariant();
        var offset = item.DeadLetterSource is null ? ElasticsearchDocuments.StableNumber(item.Id) : item.DeadLetterOffset;
        var document = body[item.SourceStart..(item.End - 1)].ToArray();
        Rejections.Add(new BulkRejection(item.Kind, item.Id, source, offset, r.Status, "store_rejected:" + (r.ErrorType ?? "http_" + r.Status),
            r.ErrorReason, document));
        _stats.AddRejected(1);
    }

    /// <summary>One HTTP round trip with whole-request retries; returns one result per item, in request order.</summary>
    private async Task<BulkItemResult[]> SendRequestAsync(ReadOnlyMemory<byte> body, int itemCount, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            _stats.OnBulkRequest(body.Length, itemCount);
            string problem;
            TimeSpan? retryAfter = null;
            try
            {
                using var response = await _client.BulkAsync(body, _options.Refresh, ct).ConfigureAwait(false);
                if (response.IsSuccess && response.Body is not null) return ParseItems(response.Body.RootElement, itemCount);
                if (response.Status is not (429 or 502 or 503 or 504))
                {
                    throw new ElasticsearchBulkException(response.Status, response.ErrorType,
                        $"bulk request refused with HTTP {response.Status}: {response.ErrorType}: {response.ErrorReason}", itemCount);
                }
                problem = $"HTTP {response.Status} {response.ErrorType}";
                retryAfter = response.RetryAfter;
            }
            catch (HttpRequestException e)
            {
                problem = "network: " + e.Message;
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                problem = "timeout: " + e.Message;
            }
            _stats.AddRequestRetries(1);
            if (attempt >= _options.MaxAttempts)
                throw new ElasticsearchBulkException(0, null, $"bulk request still failing after {attempt} attempts: {problem}", itemCount);
            var delay = _backoff(attempt);
            if (retryAfter is { } ra && ra > delay && ra <= _options.MaxBackoff) delay = ra;
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    private static BulkItemResult[] ParseItems(JsonElement root, int expected)
    {
        if (!root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array || items.GetArrayLength() != expected)
            throw new ElasticsearchException($"bulk response does not list one result per item (expected {expected})");
        var results = new BulkItemResult[expected];
        var i = 0;
        foreach (var wrapper in items.EnumerateArray())
        {
            // Each entry is {"<action>": {"status": ..., "error": {...}}}.
            var entry = wrapper.EnumerateObject().FirstOrDefault().Value;
            var status = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("status", out var s) && s.TryGetInt32(out var st) ? st : 0;
            string? type = null, reason = null;
            if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("error", out var e))
            {
                if (e.ValueKind == JsonValueKind.Object)
                {
                    type = ElasticsearchDocuments.Str(e, "type");
                    reason = ElasticsearchDocuments.Str(e, "reason");
                }
                else if (e.ValueKind == JsonValueKind.String) reason = e.GetString();
            }
            results[i++] = new BulkItemResult(status == 0 ? 500 : status, type, reason);
        }
        return results;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
    }

    private readonly record struct BulkItemResult(int Status, string? ErrorType, string? ErrorReason);
}

/// <summary>Counters of what the store sent and how Elasticsearch answered (for tests, metrics and the benchmark report).</summary>
public sealed class ElasticsearchStoreStats
{
    private long _bulkRequests, _bulkItemsSent, _bulkBytes, _maxBulkBytes, _itemRetries, _requestRetries, _rejected;

    public long BulkRequests => Interlocked.Read(ref _bulkRequests);

    public long BulkItemsSent => Interlocked.Read(ref _bulkItemsSent);

    public long BulkBytes => Interlocked.Read(ref _bulkBytes);

    /// <summary>Largest single bulk body sent.</summary>
    public long MaxBulkRequestBytes => Interlocked.Read(ref _maxBulkBytes);

    public long ItemRetries => Interlocked.Read(ref _itemRetries);

    public long RequestRetries => Interlocked.Read(ref _requestRetries);

    /// <summary>Items refused for good and dead-lettered.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    internal void OnBulkRequest(int bytes, int items)
    {
        Interlocked.Increment(ref _bulkRequests);
        Interlocked.Add(ref _bulkItemsSent, items);
        Interlocked.Add(ref _bulkBytes, bytes);
        long seen;
        while (bytes > (seen = Interlocked.Read(ref _maxBulkBytes)) && Interlocked.CompareExchange(ref _maxBulkBytes, bytes, seen) != seen)
        {
            // another request raised the maximum meanwhile; compare again
        }
    }

    internal void AddItemRetries(int n) => Interlocked.Add(ref _itemRetries, n);

    internal void AddRequestRetries(int n) => Interlocked.Add(ref _requestRetries, n);

    internal void AddRejected(int n) => Interlocked.Add(ref _rejected, n);
}
