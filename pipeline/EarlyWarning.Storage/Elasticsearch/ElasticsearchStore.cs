using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using static EarlyWarning.Storage.Elasticsearch.ElasticsearchDocuments;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>
/// The scale-out store: posts in monthly indices (<c>PREFIX-posts-YYYY.MM</c>, by <c>created_at</c>), alerts, dead
/// letters, aggregates, checkpoints/state and feedback in one index each, all under strict templates from
/// <c>dashboards/elasticsearch/</c>. Writes are idempotent by explicit <c>_id</c> (post id, alert id, dead-letter
/// source+offset, aggregate key), go through <c>_bulk</c> with bounded request sizes and per-item retries, and write a
/// batch's checkpoints and state only after everything else in it is stored or dead-lettered (at-least-once).
/// Batches are not atomic: a reader can see part of a batch while it is being written.
/// </summary>
public sealed class ElasticsearchStore : IPipelineStore
{
    private readonly ElasticsearchOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _jitter;
    private readonly Lock _jitterLock = new();
    private long _lastSeq;

    public ElasticsearchStore(ElasticsearchOptions options, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _jitter = options.JitterSeed is { } seed ? new Random(seed) : new Random();
        Client = new ElasticsearchClient(options.Url, handler, options.Authorization, options.RequestTimeout);
    }

    /// <summary>Creates a store on <paramref name="url"/> with default options and initialises it.</summary>
    public static async Task<ElasticsearchStore> OpenAsync(Uri url, CancellationToken ct = default)
    {
        var store = new ElasticsearchStore(new ElasticsearchOptions { Url = url });
        try
        {
            await store.InitializeAsync(ct).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ElasticsearchOptions Options => _options;

    public ElasticsearchClient Client { get; }

    public ElasticsearchStoreStats Stats { get; } = new();

    public string PostsPattern => _options.IndexPrefix + "-posts-*";

    public string AlertsIndex => _options.IndexPrefix + "-alerts";

    public string DeadLettersIndex => _options.IndexPrefix + "-deadletters";

    public string AggregatesIndex => _options.IndexPrefix + "-aggregates";

    public string StateIndex => _options.IndexPrefix + "-state";

    public string FeedbackIndex => _options.IndexPrefix + "-feedback";

    /// <summary>The monthly index a post created at <paramref name="createdAt"/> lives in.</summary>
    public string PostIndex(DateTimeOffset createdAt) =>
        _options.IndexPrefix + "-posts-" + createdAt.UtcDateTime.ToString("yyyy.MM", CultureInfo.InvariantCulture);

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        var assets = ElasticsearchAssets.Load(_options.AssetsDirectory, _options.IndexPrefix);
        await ElasticsearchSetup.InstallTemplatesAsync(Client, assets, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- writes

    public async Task WriteAsync(StoreBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty) return;
        var now = _time.GetUtcNow();
        List<BulkRejection> rejected;
        using (var bulk = NewIndexer())
        {
            foreach (var env in batch.Posts)
            {
                await bulk.AddAsync(BulkItemKind.Post, "index", PostIndex(env.Post.CreatedAt), SafeId(env.Post.Id), w => WritePost(w, env, now),
                    deadLetterSource: env.Position.Source, deadLetterOffset: env.Position.Offset, ct: ct).ConfigureAwait(false);
            }
            foreach (var d in batch.DeadLetters)
            {
                var key = DeadLetterKey(d.Position.Source, d.Position.Offset);
                var seq = NextSeq();
                await bulk.AddAsync(BulkItemKind.DeadLetter, "create", DeadLettersIndex, SafeId(key),
                    w => WriteDeadLetter(w, StableNumber(key), d.Position.Source, d.Position.Offset, d.Reason, null, d.Bytes.Span, d.ReceivedAt, now, seq),
                    ct: ct).ConfigureAwait(false);
            }
            foreach (var a in batch.Alerts)
            {
                await bulk.AddAsync(BulkItemKind.Alert, "update", AlertsIndex, SafeId(a.Id), w => WriteAlertUpsert(w, a, now),
                    w => w.WriteNumber("retry_on_conflict", 3), ct: ct).ConfigureAwait(false);
            }
            foreach (var p in batch.Aggregates)
            {
                await bulk.AddAsync(BulkItemKind.Aggregate, "index", AggregatesIndex, AggregateId(p), w => WriteAggregate(w, p, now), ct: ct)
                    .ConfigureAwait(false);
            }
            await bulk.FlushAsync(ct).ConfigureAwait(false);
            rejected = [.. bulk.Rejections];
        }

        if (rejected.Count > 0) await DeadLetterAsync(rejected, now, ct).ConfigureAwait(false);

        // Only now that the data is stored (or dead-lettered) may the batch's offsets and stage state move forward.
        if (batch.Checkpoints.Count == 0 && batch.State.Count == 0) return;
        using (var bulk = NewIndexer())
        {
            // One base64 string per state: the blob is copied into one array here (Elasticsearch is not the store for
            // large network state; SQLite writes it chunk by chunk).
            foreach (var (key, bytes) in batch.State)
            {
                await bulk.AddAsync(BulkItemKind.State, "index", StateIndex, StateId(key), w => WriteState(w, key, bytes.ToArray(), now), ct: ct)
                    .ConfigureAwait(false);
            }
            foreach (var (source, offset) in batch.Checkpoints)
            {
                // The offset is the external version: Elasticsearch itself refuses to move a checkpoint backwards (409).
                var version = Math.Max(0, offset + 1);
                await bulk.AddAsync(BulkItemKind.Checkpoint, "index", StateIndex, CheckpointId(source), w => WriteCheckpoint(w, source, offset, now),
                    w =>
                    {
                        w.WriteNumber("version", version);
                        w.WriteString("version_type", "external_gte");
                    }, ct: ct).ConfigureAwait(false);
            }
            await bulk.FlushAsync(ct).ConfigureAwait(false);
            if (bulk.Rejections.Count > 0)
            {
                var r = bulk.Rejections[0];
                throw new ElasticsearchBulkException(r.Status, r.Reason, $"checkpoint/state '{r.Id}' refused: {r.Reason}: {r.Detail}", bulk.Rejections.Count);
            }
        }
    }

    /// <summary>Items Elasticsearch refused for good go to the dead-letter index with the reason and the refused document.</summary>
    private async Task DeadLetterAsync(List<BulkRejection> rejected, DateTimeOffset now, CancellationToken ct)
    {
        using var bulk = NewIndexer();
        foreach (var r in rejected)
        {
            if (r.Kind == BulkItemKind.DeadLetter)
                throw new ElasticsearchBulkException(r.Status, r.Reason, $"dead letter '{r.Id}' refused: {r.Reason}: {r.Detail}", 1);
            var key = DeadLetterKey(r.Source, r.Offset);
            var seq = NextSeq();
            await bulk.AddAsync(BulkItemKind.DeadLetter, "create", DeadLettersIndex, SafeId(key),
                w => WriteDeadLetter(w, StableNumber(key), r.Source, r.Offset, r.Reason, r.Detail, r.Document, now, now, seq), ct: ct).ConfigureAwait(false);
        }
        await bulk.FlushAsync(ct).ConfigureAwait(false);
        if (bulk.Rejections.Count > 0)
        {
            var r = bulk.Rejections[0];
            throw new ElasticsearchBulkException(r.Status, r.Reason, $"could not dead-letter a refused item: {r.Reason}: {r.Detail}", bulk.Rejections.Count);
        }
    }

    public async Task<bool> UpdateAlertStatusAsync(string id, string status, string actor, string? note, CancellationToken ct = default)
    {
        if (status is null || !AlertStatus.IsValid(status))
            throw new ArgumentException($"'{status}' is not an alert status (new, acknowledged, escalated, dismissed).", nameof(status));
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(actor);
        for (var attempt = 1; attempt <= 32; attempt++)
        {
            var doc = await Client.GetDocumentAsync(AlertsIndex, SafeId(id), ct).ConfigureAwait(false);
            if (doc is null) return false;
            var node = JsonNode.Parse(doc.Source.GetRawText()) as JsonObject ?? new JsonObject();
            var now = _time.GetUtcNow();
            node["status"] = status;
            if (node["audit"] is not JsonArray audit)
            {
                audit = [];
                node["audit"] = audit;
            }
            var entry = new JsonObject { ["at"] = IsoDate(now), ["actor"] = actor, ["action"] = status };
            if (note is not null) entry["note"] = note;
            audit.Add(entry);
            node["updated_at"] = IsoDate(now);
            // Optimistic concurrency: the write only lands if nobody changed the alert since we read it.
            if (await Client.IndexDocumentAsync(AlertsIndex, SafeId(id), JsonSerializer.SerializeToUtf8Bytes(node), doc.SeqNo, doc.PrimaryTerm,
                    _options.Refresh, ct).ConfigureAwait(false))
                return true;
            await Task.Delay(TimeSpan.FromMilliseconds(NextJitter(Math.Min(50, attempt * 5))), ct).ConfigureAwait(false);
        }
        throw new ElasticsearchException($"alert '{id}' kept changing under concurrent updates; status not changed");
    }

    public async Task AddFeedbackAsync(Feedback feedback, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        if (string.IsNullOrEmpty(feedback.PostId)) throw new ArgumentException("Feedback needs the post id.", nameof(feedback));
        if (string.IsNullOrWhiteSpace(feedback.Label)) throw new ArgumentException("Feedback needs a label.", nameof(feedback));
        if (string.IsNullOrWhiteSpace(feedback.Actor)) throw new ArgumentException("Feedback needs an actor.", nameof(feedback));
        var body = Json(w => WriteFeedback(w, feedback, NextSeq()));
        await Client.IndexDocumentAsync(FeedbackIndex, null, body, refresh: _options.Refresh, ct: ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- reads

    public async Task<long?> GetCheckpointAsync(string source, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var doc = await Client.GetDocumentAsync(StateIndex, CheckpointId(source), ct).ConfigureAwait(false);
        return doc is null ? null : Long(doc.Source, "offset");
    }

    public async Task<byte[]?> GetStateAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var doc = await Client.GetDocumentAsync(StateIndex, StateId(key), ct).ConfigureAwait(false);
        if (doc is null || !doc.Source.TryGetProperty("bytes", out var b) || b.ValueKind != JsonValueKind.String) return null;
        return b.TryGetBytesFromBase64(out var bytes) ? bytes : null;
    }

    /// <summary>Alerts matching every non-null filter, newest window first; <c>From</c>/<c>To</c> select windows overlapping [From, To].</summary>
    public async Task<IReadOnlyList<Alert>> GetAlertsAsync(AlertQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Min(query.Limit, StoreConventions.MaxQueryLimit);
        if (limit <= 0) return [];
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", limit);
            w.WriteStartObject("query");
            w.WriteStartObject("bool");
            w.WriteStartArray("filter");
            Term(w, "scope.country", query.Country);
            Term(w, "scope.region", query.Region);
            Term(w, "kind", query.Kind);
            Term(w, "status", query.Status);
            if (query.MinSeverity is { } s) Range(w, "severity_level", "gte", (int)s);
            if (query.From is { } f) Range(w, "window_end", "gte", f);
            if (query.To is { } t) Range(w, "window_start", "lte", t);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            Sort(w, ("window_start", "desc"), ("detected_at", "desc"), ("id", "asc"));
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(AlertsIndex, body, ct).ConfigureAwait(false);
        return Hits(doc).Select(ReadAlert).ToList();
    }

    public async Task<Alert?> GetAlertAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var doc = await Client.GetDocumentAsync(AlertsIndex, SafeId(id), ct).ConfigureAwait(false);
        return doc is null ? null : ReadAlert(doc.Source);
    }

    /// <summary>
    /// Sums of the stored buckets per bucket start over the dimensions the query leaves free (a <c>terms</c>
    /// aggregation on <c>bucket_start</c> with a <c>sum</c> of <c>count</c>). <c>From</c> inclusive, <c>To</c> exclusive.
    /// </summary>
    public async Task<IReadOnlyList<SeriesPoint>> GetTimelineAsync(TimelineQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", 0);
            w.WriteStartObject("query");
            w.WriteStartObject("bool");
            w.WriteStartArray("filter");
            Term(w, "country", query.Country);
            Term(w, "region", query.Region);
            Term(w, "target_group", query.TargetGroup);
            Term(w, "label", query.Label);
            if (query.From is { } f) Range(w, "bucket_start", "gte", f);
            if (query.To is { } t) Range(w, "bucket_start", "lt", t);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("aggs");
            w.WriteStartObject("buckets");
            w.WriteStartObject("terms");
            w.WriteString("field", "bucket_start");
            w.WriteNumber("size", StoreConventions.MaxQueryLimit);
            w.WriteStartObject("order");
            w.WriteString("_key", "asc");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("aggs");
            w.WriteStartObject("total");
            w.WriteStartObject("sum");
            w.WriteString("field", "count");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(AggregatesIndex, body, ct).ConfigureAwait(false);
        const string any = StoreConventions.AnyValue;
        var points = new List<SeriesPoint>();
        if (!doc.RootElement.TryGetProperty("aggregations", out var aggs)) return points;
        foreach (var b in aggs.GetProperty("buckets").GetProperty("buckets").EnumerateArray())
        {
            var key = b.GetProperty("key");
            var start = key.ValueKind == JsonValueKind.Number
                ? DateTimeOffset.FromUnixTimeMilliseconds(key.GetInt64())
                : DateTimeOffset.Parse(key.GetString()!, CultureInfo.InvariantCulture);
            var total = b.GetProperty("total").GetProperty("value").GetDouble();
            points.Add(new SeriesPoint(start, query.Country ?? any, query.Region ?? any, query.TargetGroup ?? any, query.Label ?? any,
                (long)Math.Round(total)));
        }
        return points;
    }

    public async Task<StoredPost?> GetPostAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        // The month of a post is unknown to the caller, so look it up across the monthly indices by its id field.
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", 1);
            w.WriteStartObject("query");
            w.WriteStartObject("term");
            w.WriteString("id", id);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(PostsPattern, body, ct).ConfigureAwait(false);
        return Hits(doc).Select(ReadPost).FirstOrDefault();
    }

    /// <summary>
    /// Posts containing every word of <paramref name="query"/>, newest first. The words are cut out of the input the
    /// same way as for SQLite and sent as a <c>match</c> query with operator <c>and</c>, which has no query syntax, so
    /// no input can make the search fail.
    /// </summary>
    public async Task<IReadOnlyList<StoredPost>> SearchPostsAsync(string query, int limit, CancellationToken ct = default)
    {
        limit = Math.Min(limit, StoreConventions.MaxQueryLimit);
        var terms = SearchQuery.Terms(query ?? "");
        if (limit <= 0 || terms.Count == 0) return [];
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", limit);
            w.WriteStartObject("query");
            w.WriteStartObject("match");
            w.WriteStartObject("text");
            w.WriteString("query", string.Join(' ', terms));
            w.WriteString("operator", "and");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            Sort(w, ("created_at", "desc"), ("id", "desc"));
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(PostsPattern, body, ct).ConfigureAwait(false);
        return Hits(doc).Select(ReadPost).ToList();
    }

    /// <summary>Dead letters, most recently stored first.</summary>
    public async Task<IReadOnlyList<StoredDeadLetter>> GetDeadLettersAsync(int limit, CancellationToken ct = default)
    {
        limit = Math.Min(limit, StoreConventions.MaxQueryLimit);
        if (limit <= 0) return [];
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", limit);
            Sort(w, ("seq", "desc"));
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(DeadLettersIndex, body, ct).ConfigureAwait(false);
        return Hits(doc).Select(ReadDeadLetter).ToList();
    }

    /// <summary>All feedback (up to <see cref="StoreConventions.MaxQueryLimit"/>), in the order it was given.</summary>
    public async Task<IReadOnlyList<Feedback>> GetFeedbackAsync(CancellationToken ct = default)
    {
        var body = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("size", StoreConventions.MaxQueryLimit);
            Sort(w, ("seq", "asc"));
            w.WriteEndObject();
        });
        using var doc = await Client.SearchAsync(FeedbackIndex, body, ct).ConfigureAwait(false);
        return Hits(doc).Select(ReadFeedback).ToList();
    }

    /// <summary>Counts from five <c>_count</c> requests (not one snapshot: Elasticsearch has no cross-index transaction).</summary>
    public async Task<StoreCounts> GetCountsAsync(CancellationToken ct = default)
    {
        var flagged = Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("query");
            w.WriteStartObject("term");
            w.WriteBoolean("decision.flagged", true);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        var posts = Client.CountAsync(PostsPattern, null, ct);
        var flaggedPosts = Client.CountAsync(PostsPattern, flagged, ct);
        var alerts = Client.CountAsync(AlertsIndex, null, ct);
        var dead = Client.CountAsync(DeadLettersIndex, null, ct);
        var feedback = Client.CountAsync(FeedbackIndex, null, ct);
        await Task.WhenAll(posts, flaggedPosts, alerts, dead, feedback).ConfigureAwait(false);
        return new StoreCounts(await posts.ConfigureAwait(false), await flaggedPosts.ConfigureAwait(false), await alerts.ConfigureAwait(false),
            await dead.ConfigureAwait(false), await feedback.ConfigureAwait(false));
    }

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- helpers

    private BulkIndexer NewIndexer() => new(Client, _options, Stats, Backoff);

    /// <summary>Exponential back-off with full jitter: a random delay in [0, min(max, initial * 2^(attempt-1))].</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds(NextJitter(cap));
    }

    private double NextJitter(double maxMs)
    {
        lock (_jitterLock) return _jitter.NextDouble() * maxMs;
    }

    /// <summary>A number that grows with every call and roughly with wall-clock time, to order dead letters and feedback.</summary>
    private long NextSeq()
    {
        var candidate = _time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        while (true)
        {
            var last = Interlocked.Read(ref _lastSeq);
            var next = Math.Max(candidate, last + 1);
            if (Interlocked.CompareExchange(ref _lastSeq, next, last) == last) return next;
        }
    }

    private static string IsoDate(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new PooledByteBuffer(1024);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Term(Utf8JsonWriter w, string field, string? value)
    {
        if (value is null) return;
        w.WriteStartObject();
        w.WriteStartObject("term");
        w.WriteString(field, value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Range(Utf8JsonWriter w, string field, string op, DateTimeOffset value)
    {
        w.WriteStartObject();
        w.WriteStartObject("range");
        w.WriteStartObject(field);
        w.WriteString(op, IsoDate(value));
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Range(Utf8JsonWriter w, string field, string op, long value)
    {
        w.WriteStartObject();
        w.WriteStartObject("range");
        w.WriteStartObject(field);
        w.WriteNumber(op, value);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Sort(Utf8JsonWriter w, params (string Field, string Order)[] fields)
    {
        w.WriteStartArray("sort");
        foreach (var (field, order) in fields)
        {
            w.WriteStartObject();
            w.WriteStartObject(field);
            w.WriteString("order", order);
            w.WriteString("unmapped_type", "keyword");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static IEnumerable<JsonElement> Hits(JsonDocument doc)
    {
        if (!doc.RootElement.TryGetProperty("hits", out var hits) || !hits.TryGetProperty("hits", out var list)) yield break;
        foreach (var h in list.EnumerateArray())
        {
            if (h.TryGetProperty("_source", out var s)) yield return s;
        }
    }
}
