using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>
/// A small typed client for the parts of the Elasticsearch REST API the store uses (<c>_bulk</c>, <c>_doc</c>,
/// <c>_search</c>, <c>_count</c>, <c>_index_template</c>, <c>_ilm/policy</c>), over <see cref="HttpClient"/> and
/// <see cref="System.Text.Json"/>. Bodies go out as the caller's bytes, unchanged; responses come back as JSON documents.
/// </summary>
public sealed class ElasticsearchClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly MediaTypeHeaderValue NdJson = new("application/x-ndjson");
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>
    /// A client for the cluster at <paramref name="url"/>; <paramref name="handler"/> (proxies, TLS) is owned by the client,
    /// <paramref name="authorization"/> is an optional <c>Authorization</c> header value (<c>ApiKey ...</c>, <c>Basic ...</c>).
    /// </summary>
    public ElasticsearchClient(Uri url, HttpMessageHandler? handler = null, string? authorization = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var baseUrl = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: true);
        _http.BaseAddress = baseUrl;
        _http.Timeout = timeout ?? TimeSpan.FromSeconds(60);
        if (!string.IsNullOrEmpty(authorization)) _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        _ownsHttp = true;
    }

    /// <summary>Uses a caller-owned <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the cluster.</summary>
    public ElasticsearchClient(HttpClient http)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        if (http.BaseAddress is null) throw new ArgumentException("The HttpClient needs a BaseAddress.", nameof(http));
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Sends one request; never throws for an HTTP status (the response says what happened).</summary>
    public async Task<ElasticsearchResponse> SendAsync(HttpMethod method, string pathAndQuery, ReadOnlyMemory<byte>? body = null,
        bool ndjson = false, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (body is { } b)
        {
            request.Content = new ReadOnlyMemoryContent(b);
            request.Content.Headers.ContentType = ndjson ? NdJson : Json;
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        JsonDocument? doc = null;
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (bytes.Length > 0)
        {
            try { doc = JsonDocument.Parse(bytes); }
            catch (JsonException) { doc = null; } // a proxy's HTML error page: the status still tells the story
        }
        return new ElasticsearchResponse((int)response.StatusCode, doc, response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Sends NDJSON to <c>_bulk</c>. The response is returned whatever its status, for the caller's retry policy.</summary>
    public Task<ElasticsearchResponse> BulkAsync(ReadOnlyMemory<byte> ndjson, string? refresh, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "_bulk" + (string.IsNullOrEmpty(refresh) ? "" : "?refresh=" + Uri.EscapeDataString(refresh)), ndjson, ndjson: true, ct);

    /// <summary>A document's <c>_source</c> with its sequence number and primary term, or null when the document or index does not exist.</summary>
    public async Task<ElasticsearchDocument?> GetDocumentAsync(string index, string id, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Get, $"{Escape(index)}/_doc/{Escape(id)}", ct: ct).ConfigureAwait(false);
        if (r.Status == (int)HttpStatusCode.NotFound) return null;
        r.EnsureSuccess("get document");
        var root = r.Body!.RootElement;
        if (!root.TryGetProperty("found", out var found) || !found.GetBoolean()) return null;
        return new ElasticsearchDocument(root.GetProperty("_id").GetString()!, root.GetProperty("_source").Clone(),
            root.TryGetProperty("_seq_no", out var s) ? s.GetInt64() : -1, root.TryGetProperty("_primary_term", out var p) ? p.GetInt64() : -1);
    }

    /// <summary>
    /// Indexes one document. With <paramref name="ifSeqNo"/>/<paramref name="ifPrimaryTerm"/> the write succeeds only if
    /// the document is unchanged since it was read (optimistic concurrency); returns false on that conflict (409).
    /// </summary>
    public async Task<bool> IndexDocumentAsync(string index, string? id, ReadOnlyMemory<byte> source, long? ifSeqNo = null,
        long? ifPrimaryTerm = null, string? refresh = null, CancellationToken ct = default)
    {
        var q = new StringBuilder();
        void Param(string name, string? value)
        {
            if (value is null) return;
            q.Append(q.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
        Param("if_seq_no", ifSeqNo?.ToString(CultureInfo.InvariantCulture));
        Param("if_primary_term", ifPrimaryTerm?.ToString(CultureInfo.InvariantCulture));
        Param("refresh", string.IsNullOrEmpty(refresh) ? null : refresh);
        var path = id is null ? $"{Escape(index)}/_doc{q}" : $"{Escape(index)}/_doc/{Escape(id)}{q}";
        using var r = await SendAsync(id is null ? HttpMethod.Post : HttpMethod.Put, path, source, ct: ct).ConfigureAwait(false);
        if (r.Status == (int)HttpStatusCode.Conflict) return false;
        r.EnsureSuccess("index document");
        return true;
    }

    /// <summary>Runs a search; the caller disposes the returned document.</summary>
    public async Task<JsonDocument> SearchAsync(string target, ReadOnlyMemory<byte> body, CancellationToken ct = default)
    {
        var r = await SendAsync(HttpMethod.Post, $"{Escape(target)}/_search?ignore_unavailable=true&allow_no_indices=true", body, ct: ct).ConfigureAwait(false);
        using (r)
        {
            r.EnsureSuccess("search");
            return r.TakeBody();
        }
    }

    /// <summary>Number of documents matching <paramref name="body"/> (a <c>{"query":...}</c> object) or all documents.</summary>
    public async Task<long> CountAsync(string target, ReadOnlyMemory<byte>? body = null, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Post, $"{Escape(target)}/_count?ignore_unavailable=true&allow_no_indices=true", body ?? "{}"u8.ToArray(), ct: ct)
            .ConfigureAwait(false);
        r.EnsureSuccess("count");
        return r.Body!.RootElement.GetProperty("count").GetInt64();
    }

    public async Task PutIndexTemplateAsync(string name, ReadOnlyMemory<byte> body, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Put, "_index_template/" + Escape(name), body, ct: ct).ConfigureAwait(false);
        r.EnsureSuccess("put index template " + name);
    }

    public async Task PutLifecyclePolicyAsync(string name, ReadOnlyMemory<byte> body, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Put, "_ilm/policy/" + Escape(name), body, ct: ct).ConfigureAwait(false);
        r.EnsureSuccess("put lifecycle policy " + name);
    }

    /// <summary>Creates an index (its settings and mappings come from the matching template); false when it already exists.</summary>
    public async Task<bool> CreateIndexAsync(string index, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Put, Escape(index), "{}"u8.ToArray(), ct: ct).ConfigureAwait(false);
        if (r.Status == (int)HttpStatusCode.BadRequest && r.ErrorType is "resource_already_exists_exception") return false;
        r.EnsureSuccess("create index " + index);
        return true;
    }

    /// <summary>Deletes indices matching <paramref name="target"/> (a name, list or pattern); used to clean up after live tests.</summary>
    public async Task DeleteIndexAsync(string target, CancellationToken ct = default)
    {
        using var r = await SendAsync(HttpMethod.Delete, Escape(target) + "?ignore_unavailable=true&allow_no_indices=true", ct: ct).ConfigureAwait(false);
        if (r.Status != (int)HttpStatusCode.NotFound) r.EnsureSuccess("delete index " + target);
    }

    /// <summary>Escapes one path segment; commas and asterisks stay, so index lists and patterns keep working.</summary>
    internal static string Escape(string segment) =>
        Uri.EscapeDataString(segment).Replace("%2C", ",", StringComparison.Ordinal).Replace("%2A", "*", StringComparison.Ordinal);

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}

/// <summary>A document as <c>GET _doc</c> returns it: id, source, and the values optimistic concurrency needs.</summary>
public sealed record ElasticsearchDocument(string Id, JsonElement Source, long SeqNo, long PrimaryTerm);

/// <summary>An HTTP response from Elasticsearch: status, parsed body (when JSON), and the error type/reason it reports.</summary>
public sealed class ElasticsearchResponse(int status, JsonDocument? body, TimeSpan? retryAfter) : IDisposable
{
    private JsonDocument? _body = body;

    public int Status { get; } = status;

    public JsonDocument? Body => _body;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The <c>error.type</c> of an error response, e.g. <c>es_rejected_execution_exception</c>.</summary>
    public string? ErrorType => ErrorField("type");

    public string? ErrorReason => ErrorField("reason");

    private string? ErrorField(string name)
    {
        if (_body is null || _body.RootElement.ValueKind != JsonValueKind.Object || !_body.RootElement.TryGetProperty("error", out var e)) return null;
        if (e.ValueKind == JsonValueKind.String) return name == "reason" ? e.GetString() : null;
        return e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    internal JsonDocument TakeBody()
    {
        var b = _body ?? throw new ElasticsearchException(Status, null, "response had no JSON body");
        _body = null;
        return b;
    }

    public void EnsureSuccess(string what)
    {
        if (IsSuccess && _body is not null) return;
        if (IsSuccess) throw new ElasticsearchException(Status, null, what + ": response had no JSON body");
        throw new ElasticsearchException(Status, ErrorType, $"{what} failed with HTTP {Status}: {ErrorType ?? "error"}: {ErrorReason ?? "(no reason given)"}");
    }

    public void Dispose() => _body?.Dispose();
}

/// <summary>Elasticsearch answered with an error the store cannot handle by retrying or dead-lettering.</summary>
public class ElasticsearchException : Exception
{
    public ElasticsearchException() { }

    public ElasticsearchException(string message) : base(message) { }

    public ElasticsearchException(string message, Exception inner) : base(message, inner) { }

    public ElasticsearchException(int status, string? errorType, string message) : base(message)
    {
        Status = status;
        ErrorType = errorType;
    }

    public int Status { get; }

    public string? ErrorType { get; }
}

/// <summary>A write that did not complete: items (or whole requests) still failing after the configured attempts.</summary>
public sealed class ElasticsearchBulkException : ElasticsearchException
{
    public ElasticsearchBulkException() { }

    public ElasticsearchBulkException(string message) : base(message) { }

    public ElasticsearchBulkException(string message, Exception inner) : base(message, inner) { }

    public ElasticsearchBulkException(int status, string? errorType, string message, int failedItems) : base(status, errorType, message) =>
        FailedItems = failedItems;

    /// <summary>How many items were still failing when the write gave up.</summary>
    public int FailedItems { get; }
}
