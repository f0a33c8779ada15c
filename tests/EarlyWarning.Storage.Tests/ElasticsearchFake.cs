using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EarlyWarning.Storage.Tests;

/// <summary>What a test tells the fake to answer for one bulk item instead of applying it.</summary>
public sealed record FakeItemFault(int Status, string Type, string Reason);

/// <summary>One bulk item as the fake saw it, for fault rules: <paramref name="Attempt"/> counts requests carrying this index/id.</summary>
public sealed record FakeBulkItem(string Action, string Index, string Id, int Attempt);

/// <summary>One <c>_bulk</c> request as received: its size and items.</summary>
public sealed record FakeBulkRequest(int Bytes, int Items);

/// <summary>
/// An in-process HTTP server on 127.0.0.1 that answers the part of the Elasticsearch (and Kibana import) REST API the
/// store uses, keeps documents in memory, and checks every request: content types, JSON and NDJSON well-formedness,
/// bulk action lines with explicit ids, and every document against the strict mapping of the template that created its
/// index. Whatever is wrong is recorded in <see cref="Violations"/> (tests assert it stays empty) and answered the way
/// Elasticsearch would. It can be told to fail: whole requests (429/503 storms) and single bulk items (429, 5xx, mapping errors).
/// </summary>
public sealed class ElasticsearchFake : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FakeIndex> _indices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _templates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _itemAttempts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _itemApplied = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, int Status, int Remaining)> _requestFaults = [];
    private readonly List<FakeBulkRequest> _bulkRequests = [];
    private readonly Task _loop;
    private int _autoId;

    private ElasticsearchFake(HttpListener listener, Uri url)
    {
        _listener = listener;
        Url = url;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri Url { get; }

    /// <summary>Every request body as received, for tests that scan what was sent (e.g. for raw identifiers).</summary>
    public ConcurrentQueue<byte[]> RequestBodies { get; } = new();

    /// <summary>Problems found in requests; a correct client leaves this empty.</summary>
    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>Rule for single bulk items: return a fault to refuse the item, null to apply it.</summary>
    public Func<FakeBulkItem, FakeItemFault?>? ItemFaults { get; set; }

    /// <summary>Kibana saved objects imported so far (type/id → object).</summary>
    public ConcurrentDictionary<string, JsonObject> KibanaObjects { get; } = new();

    public int KibanaImports;

    public int Requests;

    public IReadOnlyList<FakeBulkRequest> BulkRequests
    {
        get { lock (_gate) return [.. _bulkRequests]; }
    }

    public static ElasticsearchFake Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            var url = new Uri($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add(url.AbsoluteUri);
            try
            {
                listener.Start();
                return new ElasticsearchFake(listener, url);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close(); // the port was taken between probe and bind: pick another
            }
        }
    }

    /// <summary>The next <paramref name="count"/> requests whose path starts with <paramref name="pathPrefix"/> are answered with <paramref name="status"/>.</summary>
    public void FailNextRequests(string pathPrefix, int count, int status)
    {
        lock (_gate) _requestFaults.Add((pathPrefix, status, count));
    }

    /// <summary>How many times a document was applied by bulk requests (retries of applied items would show as more than one).</summary>
    public int AppliedCount(string index, string id)
    {
        lock (_gate) return _itemApplied.GetValueOrDefault(index + "/" + id);
    }

    public IReadOnlyList<string> IndexNames
    {
        get { lock (_gate) return [.. _indices.Keys.Order(StringComparer.Ordinal)]; }
    }

    public IReadOnlyCollection<string> TemplateNames
    {
        get { lock (_gate) return [.. _templates.Keys]; }
    }

    public IReadOnlyCollection<string> PolicyNames
    {
        get { lock (_gate) return [.. _policies.Keys]; }
    }

    public JsonObject? Template(string name)
    {
        lock (_gate) return _templates.TryGetValue(name, out var t) ? (JsonObject)t.DeepClone() : null;
    }

    /// <summary>All documents of the indices matching <paramref name="pattern"/> (id → source copy).</summary>
    public Dictionary<string, JsonObject> Documents(string pattern)
    {
        lock (_gate)
        {
            var result = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var ix in Resolve(pattern))
            {
                foreach (var (id, doc) in ix.Docs) result.Add(ix.Name + "/" + id, (JsonObject)doc.Source.DeepClone());
            }
            return result;
        }
    }

    public void Dispose()
    {
        try { _listener.Stop(); }
        catch (ObjectDisposedException) { /* already stopped */ }
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* the accept loop ends with the listener */ }
    }

    // ------------------------------------------------------------------ HTTP plumbing

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        int status;
        JsonNode? body;
        try
        {
            using var ms = new MemoryStream();
            await ctx.Request.InputStream.CopyToAsync(ms).ConfigureAwait(false);
            var received = ms.ToArray();
            RequestBodies.Enqueue(received);
            (status, body) = Handle(ctx.Request, received);
        }
#pragma warning disable CA1031 // a fake server answers 500 to its own bugs instead of dying
        catch (Exception e)
#pragma warning restore CA1031
        {
            Violations.Enqueue("fake crashed: " + e);
            (status, body) = (500, Error("fake_failure", e.Message, 500));
        }
        try
        {
            var bytes = body is null ? [] : Encoding.UTF8.GetBytes(body.ToJsonString());
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            ctx.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // the client went away; nothing to answer
        }
    }

    private (int, JsonNode?) Handle(HttpListenerRequest req, byte[] body)
    {
        Interlocked.Increment(ref Requests);
        var raw = req.RawUrl ?? "/";
        var qIndex = raw.IndexOf('?', StringComparison.Ordinal);
        var path = qIndex < 0 ? raw : raw[..qIndex];
        var query = ParseQuery(qIndex < 0 ? "" : raw[(qIndex + 1)..]);
        var seg = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var method = req.HttpMethod;

        lock (_gate)
        {
            for (var i = 0; i < _requestFaults.Count; i++)
            {
                var (prefix, st, remaining) = _requestFaults[i];
                if (remaining <= 0 || !path.StartsWith(prefix, StringComparison.Ordinal)) continue;
                _requestFaults[i] = (prefix, st, remaining - 1);
                return (st, Error(st == 429 ? "es_rejected_execution_exception" : "unavailable_shards_exception", "injected failure", st));
            }
        }

        if (seg is ["api", "saved_objects", "_import"] && method == "POST") return KibanaImport(req, body);

        var isBulk = seg is ["_bulk"];
        if (body.Length > 0)
        {
            var ct = req.ContentType ?? "";
            var expected = isBulk ? "application/x-ndjson" : "application/json";
            if (!ct.StartsWith(expected, StringComparison.OrdinalIgnoreCase)) Violations.Enqueue($"{method} {path}: content type '{ct}', expected {expected}");
        }
        if (isBulk && method == "POST") return Bulk(body, query);

        JsonObject? json = null;
        if (body.Length > 0)
        {
            try { json = JsonNode.Parse(body) as JsonObject; }
            catch (JsonException e)
            {
                Violations.Enqueue($"{method} {path}: body is not JSON: {e.Message}");
                return (400, Error("parse_exception", "request body is not JSON", 400));
            }
            if (json is null)
            {
                Violations.Enqueue($"{method} {path}: body is not a JSON object");
                return (400, Error("parse_exception", "request body is not an object", 400));
            }
        }

        lock (_gate)
        {
            switch (seg)
            {
                case [] when method == "GET":
                    return (200, new JsonObject { ["name"] = "fake", ["version"] = new JsonObject { ["number"] = "8.15.0" }, ["tagline"] = "You Know, for Search" });
                case ["_ilm", "policy", var name] when method == "PUT":
                    if (json?["policy"]?["phases"] is not JsonObject) Violations.Enqueue($"ILM policy {name} has no policy.phases");
                    _policies[name] = json ?? [];
                    return (200, new JsonObject { ["acknowledged"] = true });
                case ["_index_template", var name] when method == "PUT":
                    return PutTemplate(name, json);
                case ["_index_template", var name] when method == "GET":
                    return _templates.TryGetValue(name, out var t)
                        ? (200, new JsonObject { ["index_templates"] = new JsonArray(new JsonObject { ["name"] = name, ["index_template"] = t.DeepClone() }) })
                        : (404, Error("resource_not_found_exception", $"index template matching [{name}] not found", 404));
                case [var target, "_search"] when method is "GET" or "POST":
                    return Search(target, json ?? []);
                case [var target, "_count"] when method is "GET" or "POST":
                    return (200, new JsonObject { ["count"] = Resolve(target).SelectMany(ix => ix.Docs.Values.Select(d => (ix, d))).Count(x => Matches(x.ix, x.d, json?["query"])) });
                case [var target, "_refresh"] when method == "POST":
                    return (200, new JsonObject { ["_shards"] = new JsonObject { ["successful"] = 1 } });
                case [var index, "_doc", var id] when method == "GET":
                    return GetDoc(index, id);
                case [var index, "_doc", var id] when method is "PUT" or "POST":
                    return PutDoc(index, id, json, query);
                case [var index, "_doc"] when method == "POST":
                    return PutDoc(index, "auto-" + Interlocked.Increment(ref _autoId).ToString(CultureInfo.InvariantCulture), json, query);
                case [var index] when method == "PUT" && !index.StartsWith('_'):
                    if (_indices.ContainsKey(index)) return (400, Error("resource_already_exists_exception", $"index [{index}] already exists", 400));
                    CreateIndex(index);
                    return (200, new JsonObject { ["acknowledged"] = true, ["index"] = index });
                case [var target] when method == "DELETE" && !target.StartsWith('_'):
                    foreach (var ix in Resolve(target)) _indices.Remove(ix.Name);
                    return (200, new JsonObject { ["acknowledged"] = true });
                default:
                    Violations.Enqueue($"unsupported request {method} {path}");
                    return (400, Error("illegal_argument_exception", $"no handler for {method} {path}", 400));
            }
        }
    }

    // ------------------------------------------------------------------ templates and indices

    private (int, JsonNode?) PutTemplate(string name, JsonObject? json)
    {
        if (json?["index_patterns"] is not JsonArray { Count: > 0 } || json["template"]?["mappings"] is not JsonObject)
        {
            Violations.Enqueue($"template {name} lacks index_patterns or template.mappings");
            return (400, Error("illegal_argument_exception", "bad template", 400));
        }
        if (json["template"]?["mappings"]?["dynamic"]?.GetValue<string>() != "strict")
            Violations.Enqueue($"template {name} is not dynamic: strict");
        if (json["template"]?["settings"]?["index.lifecycle.name"] is JsonValue ilm && !_policies.ContainsKey(ilm.GetValue<string>()))
            Violations.Enqueue($"template {name} names lifecycle policy {ilm} before it was installed");
        _templates[name] = json;
        return (200, new JsonObject { ["acknowledged"] = true });
    }

    private FakeIndex CreateIndex(string name)
    {
        var template = _templates.Values
            .Where(t => t["index_patterns"]!.AsArray().Any(p => Glob(p!.GetValue<string>(), name)))
            .OrderByDescending(t => t["priority"]?.GetValue<int>() ?? 0)
            .FirstOrDefault();
        var ix = new FakeIndex(name);
        if (template is null) Violations.Enqueue($"index {name} created without a matching template (dynamic mapping)");
        else
        {
            var mappings = template["template"]!["mappings"]!.AsObject();
            ix.Strict = mappings["dynamic"]?.GetValue<string>() == "strict";
            if (mappings["properties"] is JsonObject props) Flatten(props, "", ix);
        }
        _indices[name] = ix;
        return ix;
    }

    private static void Flatten(JsonObject props, string prefix, FakeIndex ix)
    {
        foreach (var (name, value) in props)
        {
            if (value is not JsonObject def) continue;
            var path = prefix + name;
            if (def["enabled"] is JsonValue en && !en.GetValue<bool>())
            {
                ix.Disabled.Add(path);
                ix.Types[path] = "object";
            }
            else if (def["properties"] is JsonObject sub)
            {
                ix.Types[path] = "object";
                Flatten(sub, path + ".", ix);
            }
            else ix.Types[path] = def["type"]?.GetValue<string>() ?? "object";
        }
    }

    private List<FakeIndex> Resolve(string target)
    {
        var list = new List<FakeIndex>();
        foreach (var part in target.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Contains('*', StringComparison.Ordinal)) list.AddRange(_indices.Values.Where(ix => Glob(part, ix.Name)));
            else if (_indices.TryGetValue(part, out var ix)) list.Add(ix);
        }
        return [.. list.Distinct().OrderBy(ix => ix.Name, StringComparer.Ordinal)];
    }

    private static bool Glob(string pattern, string name)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1) return pattern == name;
        if (!name.StartsWith(parts[0], StringComparison.Ordinal)) return false;
        var pos = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var at = name.IndexOf(parts[i], pos, StringComparison.Ordinal);
            if (at < 0) return false;
            pos = at + parts[i].Length;
        }
        return name.Length - pos >= parts[^1].Length && name.EndsWith(parts[^1], StringComparison.Ordinal);
    }

    /// <summary>How many bulk requests carried the item <paramref name="index"/>/<paramref name="id"/>.</summary>
    public int AttemptCount(string index, string id)
    {
        lock (_gate) return _itemAttempts.GetValueOrDefault(index + "/" + id);
    }

    // ------------------------------------------------------------------ documents

    /// <summary>Checks a document against the index's mapping; returns (type, reason) of the first problem.</summary>
    private static (string Type, string Reason)? Validate(FakeIndex ix, JsonObject doc, string prefix = "")
    {
        foreach (var (name, value) in doc)
        {
            var path = prefix + name;
            if (ix.Disabled.Contains(path)) continue;
            if (!ix.Types.TryGetValue(path, out var type))
            {
                if (ix.Strict) return ("strict_dynamic_mapping_exception", $"mapping set to strict, dynamic introduction of [{name}] within [{(prefix.Length == 0 ? "_doc" : prefix.TrimEnd('.'))}] is not allowed");
                continue;
            }
            var problem = CheckValue(ix, path, type, value);
            if (problem is not null) return problem;
        }
        return null;
    }

    private static (string, string)? CheckValue(FakeIndex ix, string path, string type, JsonNode? value)
    {
        if (value is null) return null;
        if (value is JsonArray arr)
        {
            foreach (var x in arr)
            {
                var p = CheckValue(ix, path, type, x);
                if (p is not null) return p;
            }
            return null;
        }
        var bad = ("mapper_parsing_exception", $"failed to parse field [{path}] of type [{type}]");
        switch (type)
        {
            case "object":
                return value is JsonObject o ? Validate(ix, o, path + ".") : bad;
            case "geo_point":
                return value is JsonObject g && g["lat"] is JsonValue lat && g["lon"] is JsonValue lon &&
                       lat.TryGetValue<double>(out var la) && lon.TryGetValue<double>(out var lo) && la is >= -90 and <= 90 && lo is >= -180 and <= 180 ? null : bad;
        }
        if (value is not JsonValue v) return bad;
        var kind = v.GetValueKind();
        switch (type)
        {
            case "keyword" or "text":
                return kind == JsonValueKind.String ? null : bad;
            case "date":
                if (kind == JsonValueKind.Number) return v.TryGetValue<long>(out _) ? null : bad;
                return kind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _) ? null : bad;
            case "long" or "integer" or "short" or "byte":
                if (kind != JsonValueKind.Number || !v.TryGetValue<long>(out var l) && !(v.TryGetValue<double>(out var d) && d == Math.Floor(d) && (l = (long)d) == l)) return bad;
                var (min, max) = type switch { "byte" => (sbyte.MinValue, sbyte.MaxValue), "short" => (short.MinValue, short.MaxValue), "integer" => (int.MinValue, (long)int.MaxValue), _ => (long.MinValue, long.MaxValue) };
                return l >= min && l <= max ? null : bad;
            case "float" or "double":
                return kind == JsonValueKind.Number ? null : bad;
            case "boolean":
                return kind is JsonValueKind.True or JsonValueKind.False ? null : bad;
            case "binary":
                if (kind != JsonValueKind.String) return bad;
                try
                {
                    Convert.FromBase64String(v.GetValue<string>());
                    return null;
                }
                catch (FormatException) { return bad; }
            default:
                return ("mapper_parsing_exception", $"fake does not know type [{type}] of [{path}]");
        }
    }

    private (int, JsonNode?) GetDoc(string index, string id)
    {
        if (!_indices.TryGetValue(index, out var ix)) return (404, Error("index_not_found_exception", $"no such index [{index}]", 404));
        if (!ix.Docs.TryGetValue(id, out var doc)) return (404, new JsonObject { ["_index"] = index, ["_id"] = id, ["found"] = false });
        return (200, new JsonObject
        {
            ["_index"] = index,
            ["_id"] = id,
            ["_version"] = doc.Version,
            ["_seq_no"] = doc.SeqNo,
            ["_primary_term"] = 1,
            ["found"] = true,
            ["_source"] = doc.Source.DeepClone(),
        });
    }

    private (int, JsonNode?) PutDoc(string index, string id, JsonObject? json, Dictionary<string, string> query)
    {
        if (json is null) return (400, Error("parse_exception", "request body is required", 400));
        var ix = _indices.TryGetValue(index, out var found) ? found : CreateIndex(index);
        ix.Docs.TryGetValue(id, out var existing);
        if (query.TryGetValue("if_seq_no", out var seqText))
        {
            var term = query.GetValueOrDefault("if_primary_term");
            if (existing is null || existing.SeqNo != long.Parse(seqText, CultureInfo.InvariantCulture) || term != "1")
                return (409, Error("version_conflict_engine_exception", $"[{id}]: version conflict, required seqNo [{seqText}]", 409));
        }
        if (Validate(ix, json) is { } problem) return (400, Error(problem.Type, problem.Reason, 400));
        var seq = Store(ix, id, json, null);
        return (existing is null ? 201 : 200, new JsonObject
        {
            ["_index"] = index,
            ["_id"] = id,
            ["result"] = existing is null ? "created" : "updated",
            ["_seq_no"] = seq,
            ["_primary_term"] = 1,
        });
    }

    private static long Store(FakeIndex ix, string id, JsonObject source, long? externalVersion)
    {
        var seq = ix.NextSeq++;
        var version = externalVersion ?? (ix.Docs.TryGetValue(id, out var old) ? old.Version + 1 : 1);
        ix.Docs[id] = new FakeDoc((JsonObject)source.DeepClone(), seq, version);
        return seq;
    }

    // ------------------------------------------------------------------ bulk

    private static readonly HashSet<string> MetadataKeys = ["_index", "_id", "version", "version_type", "retry_on_conflict", "if_seq_no", "if_primary_term", "routing", "require_alias"];
    private static readonly HashSet<string> UpdateKeys = ["doc", "upsert", "doc_as_upsert", "detect_noop"];

    private (int, JsonNode?) Bulk(byte[] body, Dictionary<string, string> query)
    {
        if (query.TryGetValue("refresh", out var refresh) && refresh is not ("true" or "false" or "wait_for" or ""))
            Violations.Enqueue($"bulk refresh={refresh}");
        if (body.Length == 0 || body[^1] != (byte)'\n')
        {
            Violations.Enqueue("bulk body does not end with a newline");
            return (400, Error("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]", 400));
        }
        var text = Encoding.UTF8.GetString(body);
        var lines = text[..^1].Split('\n');
        var parsed = new List<(string Action, JsonObject Meta, JsonObject? Source)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!TryParseObject(lines[i], out var actionLine) || actionLine.Count != 1)
            {
                Violations.Enqueue($"bulk line {i + 1}: not an action object");
                return (400, Error("illegal_argument_exception", $"Malformed action/metadata line [{i + 1}]", 400));
            }
            var (action, metaNode) = actionLine.First();
            if (action is not ("index" or "create" or "update" or "delete") || metaNode is not JsonObject meta)
            {
                Violations.Enqueue($"bulk line {i + 1}: unknown action '{action}'");
                return (400, Error("illegal_argument_exception", $"Malformed action/metadata line [{i + 1}]", 400));
            }
            foreach (var (k, _) in meta)
            {
                if (!MetadataKeys.Contains(k)) Violations.Enqueue($"bulk line {i + 1}: unknown metadata '{k}'");
            }
            if (meta["_index"] is not JsonValue || meta["_id"] is not JsonValue idv || string.IsNullOrEmpty(idv.GetValue<string>()))
                Violations.Enqueue($"bulk line {i + 1}: action without explicit _index and _id");
            if (Encoding.UTF8.GetByteCount(meta["_id"]?.GetValue<string>() ?? "") > 512) Violations.Enqueue($"bulk line {i + 1}: _id longer than 512 bytes");
            JsonObject? source = null;
            if (action != "delete")
            {
                i++;
                if (i >= lines.Length || !TryParseObject(lines[i], out source))
                {
                    Violations.Enqueue($"bulk line {i + 1}: missing or invalid source for {action}");
                    return (400, Error("illegal_argument_exception", $"Malformed source line [{i + 1}]", 400));
                }
                if (action == "update")
                {
                    foreach (var (k, _) in source)
                    {
                        if (!UpdateKeys.Contains(k)) Violations.Enqueue($"bulk line {i + 1}: unsupported update key '{k}'");
                    }
                    if (source["doc"] is not JsonObject) Violations.Enqueue($"bulk line {i + 1}: update without doc");
                }
            }
            parsed.Add((action, meta, source));
        }

        var items = new JsonArray();
        var errors = false;
        lock (_gate)
        {
            _bulkRequests.Add(new FakeBulkRequest(body.Length, parsed.Count));
            foreach (var (action, meta, source) in parsed)
            {
                var index = meta["_index"]?.GetValue<string>() ?? "";
                var id = meta["_id"]?.GetValue<string>() ?? "auto-" + Interlocked.Increment(ref _autoId).ToString(CultureInfo.InvariantCulture);
                var key = index + "/" + id;
                var attempt = _itemAttempts[key] = _itemAttempts.GetValueOrDefault(key) + 1;
                var (status, result, error) = ItemFaults?.Invoke(new FakeBulkItem(action, index, id, attempt)) is { } fault
                    ? (fault.Status, (string?)null, Error(fault.Type, fault.Reason, null))
                    : ApplyItem(action, index, id, meta, source);
                if (status is >= 200 and < 300) _itemApplied[key] = _itemApplied.GetValueOrDefault(key) + 1;
                var entry = new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = status };
                if (result is not null) entry["result"] = result;
                if (error is not null)
                {
                    entry["error"] = error["error"]!.DeepClone();
                    errors = true;
                }
                items.Add(new JsonObject { [action] = entry });
            }
        }
        return (200, new JsonObject { ["took"] = 1, ["errors"] = errors, ["items"] = items });
    }

    private (int Status, string? Result, JsonObject? Error) ApplyItem(string action, string index, string id, JsonObject meta, JsonObject? source)
    {
        var ix = _indices.TryGetValue(index, out var found) ? found : CreateIndex(index);
        ix.Docs.TryGetValue(id, out var existing);
        switch (action)
        {
            case "delete":
                return ix.Docs.Remove(id) ? (200, "deleted", null) : (404, "not_found", null);
            case "create" when existing is not null:
                return (409, null, Error("version_conflict_engine_exception", $"[{id}]: version conflict, document already exists", null));
            case "create" or "index":
                {
                    long? external = null;
                    if (meta["version"] is JsonValue vv)
                    {
                        var type = meta["version_type"]?.GetValue<string>() ?? "internal";
                        var version = vv.GetValue<long>();
                        if (type is not ("external" or "external_gte")) Violations.Enqueue($"bulk {id}: version with version_type {type}");
                        if (existing is not null && (type == "external_gte" ? version < existing.Version : version <= existing.Version))
                            return (409, null, Error("version_conflict_engine_exception", $"[{id}]: version conflict, current version [{existing.Version}] is higher than or equal to the one provided [{version}]", null));
                        external = version;
                    }
                    if (Validate(ix, source!) is { } problem) return (400, null, Error(problem.Type, problem.Reason, null));
                    Store(ix, id, source!, external);
                    return existing is null ? (201, "created", null) : (200, "updated", null);
                }
            case "update":
                {
                    JsonObject merged;
                    if (existing is null)
                    {
                        if (source!["upsert"] is not JsonObject upsert) return (404, null, Error("document_missing_exception", $"[{id}]: document missing", null));
                        merged = upsert;
                    }
                    else
                    {
                        merged = (JsonObject)existing.Source.DeepClone();
                        Merge(merged, (JsonObject)source!["doc"]!);
                    }
                    if (Validate(ix, merged) is { } problem) return (400, null, Error(problem.Type, problem.Reason, null));
                    Store(ix, id, merged, null);
                    return existing is null ? (201, "created", null) : (200, "updated", null);
                }
            default:
                return (400, null, Error("illegal_argument_exception", "unknown action " + action, null));
        }
    }

    /// <summary>Partial-update semantics: objects merge recursively, everything else (arrays included) is replaced.</summary>
    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (k, v) in patch)
        {
            if (v is JsonObject po && target[k] is JsonObject to) Merge(to, po);
            else target[k] = v?.DeepClone();
        }
    }

    // ------------------------------------------------------------------ search

    private (int, JsonNode?) Search(string target, JsonObject body)
    {
        foreach (var (k, _) in body)
        {
            if (k is not ("query" or "size" or "from" or "sort" or "aggs" or "aggregations" or "_source" or "track_total_hits"))
                Violations.Enqueue($"search: unsupported key '{k}'");
        }
        var indices = Resolve(target);
        var hits = indices.SelectMany(ix => ix.Docs.Select(d => (ix, Id: d.Key, Doc: d.Value))).Where(x => Matches(x.ix, x.Doc, body["query"], x.Id)).ToList();
        if (body["sort"] is JsonArray sort) hits.Sort((a, b) => CompareBySort(sort, a.ix, a.Doc, b.ix, b.Doc));
        var from = body["from"]?.GetValue<int>() ?? 0;
        var size = body["size"]?.GetValue<int>() ?? 10;
        if (size > 10_000) Violations.Enqueue($"search size {size} above index.max_result_window");
        var hitArray = new JsonArray();
        foreach (var h in hits.Skip(from).Take(size))
            hitArray.Add(new JsonObject { ["_index"] = h.ix.Name, ["_id"] = h.Id, ["_score"] = null, ["_source"] = h.Doc.Source.DeepClone() });
        var response = new JsonObject
        {
            ["took"] = 1,
            ["timed_out"] = false,
            ["hits"] = new JsonObject { ["total"] = new JsonObject { ["value"] = hits.Count, ["relation"] = "eq" }, ["hits"] = hitArray },
        };
        if ((body["aggs"] ?? body["aggregations"]) is JsonObject aggs) response["aggregations"] = Aggregate(aggs, hits.Select(h => (h.ix, h.Doc)).ToList());
        return (200, response);
    }

    private JsonObject Aggregate(JsonObject aggs, List<(FakeIndex Ix, FakeDoc Doc)> docs)
    {
        var result = new JsonObject();
        foreach (var (name, defNode) in aggs)
        {
            var def = defNode!.AsObject();
            var sub = (def["aggs"] ?? def["aggregations"]) as JsonObject;
            if (def["terms"] is JsonObject terms)
            {
                var field = terms["field"]!.GetValue<string>();
                var size = terms["size"]?.GetValue<int>() ?? 10;
                var groups = new Dictionary<string, (JsonNode Key, string? KeyAsString, List<(FakeIndex, FakeDoc)> Docs)>(StringComparer.Ordinal);
                foreach (var d in docs)
                {
                    foreach (var v in Values(d.Doc.Source, field))
                    {
                        var type = d.Ix.Types.GetValueOrDefault(field, "keyword");
                        var (key, asString) = type == "date" ? ((JsonNode)JsonValue.Create(DateMs(v)), DateTimeOffset.FromUnixTimeMilliseconds(DateMs(v)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)) : (v.DeepClone(), null);
                        var k = key.ToJsonString();
                        if (!groups.TryGetValue(k, out var g)) groups[k] = g = (key, asString, []);
                        g.Docs.Add(d);
                    }
                }
                IEnumerable<(JsonNode Key, string? KeyAsString, List<(FakeIndex, FakeDoc)> Docs)> ordered = groups.Values.OrderByDescending(g => g.Docs.Count);
                if (terms["order"] is JsonObject order && order.Count == 1)
                {
                    var (by, dirNode) = order.First();
                    var desc = dirNode!.GetValue<string>() == "desc";
                    ordered = by switch
                    {
                        "_key" => desc ? groups.Values.OrderByDescending(g => g.Key, KeyComparer.Instance) : groups.Values.OrderBy(g => g.Key, KeyComparer.Instance),
                        "_count" => desc ? groups.Values.OrderByDescending(g => g.Docs.Count) : groups.Values.OrderBy(g => g.Docs.Count),
                        _ => throw new NotSupportedException("terms order by " + by),
                    };
                }
                var buckets = new JsonArray();
                foreach (var g in ordered.Take(size))
                {
                    var b = new JsonObject { ["key"] = g.Key.DeepClone(), ["doc_count"] = g.Docs.Count };
                    if (g.KeyAsString is not null) b["key_as_string"] = g.KeyAsString;
                    if (sub is not null)
                    {
                        foreach (var (sk, sv) in Aggregate(sub, g.Docs)) b[sk] = sv?.DeepClone();
                    }
                    buckets.Add(b);
                }
                result[name] = new JsonObject { ["doc_count_error_upper_bound"] = 0, ["sum_other_doc_count"] = Math.Max(0, groups.Count - size), ["buckets"] = buckets };
            }
            else if (def["sum"] is JsonObject sum)
            {
                var field = sum["field"]!.GetValue<string>();
                result[name] = new JsonObject { ["value"] = docs.SelectMany(d => Values(d.Doc.Source, field)).Sum(v => Num(v)) };
            }
            else
            {
                Violations.Enqueue($"unsupported aggregation '{name}': {def.ToJsonString()}");
                result[name] = new JsonObject();
            }
        }
        return result;
    }

    private bool Matches(FakeIndex ix, FakeDoc doc, JsonNode? query, string? id = null)
    {
        if (query is null) return true;
        if (query is not JsonObject q || q.Count != 1)
        {
            Violations.Enqueue("query clause is not a single-key object: " + query.ToJsonString());
            return false;
        }
        var (type, arg) = q.First();
        switch (type)
        {
            case "match_all":
                return true;
            case "bool":
                var b = arg!.AsObject();
                foreach (var (k, _) in b)
                {
                    if (k is not ("filter" or "must" or "must_not" or "should" or "minimum_should_match")) Violations.Enqueue("bool: unsupported key " + k);
                }
                bool All(string key) => Clauses(b[key]).All(c => Matches(ix, doc, c, id));
                var should = Clauses(b["should"]).ToList();
                return All("filter") && All("must") && !Clauses(b["must_not"]).Any(c => Matches(ix, doc, c, id)) &&
                       (should.Count == 0 || should.Any(c => Matches(ix, doc, c, id)));
            case "term":
                {
                    var (field, v) = arg!.AsObject().First();
                    var wanted = v is JsonObject vo ? vo["value"] : v;
                    return Values(doc.Source, field).Any(x => Equal(ix, field, x, wanted));
                }
            case "terms":
                {
                    var (field, v) = arg!.AsObject().First();
                    return v!.AsArray().Any(w => Values(doc.Source, field).Any(x => Equal(ix, field, x, w)));
                }
            case "ids":
                return arg!["values"]!.AsArray().Any(v => v!.GetValue<string>() == (id ?? doc.Source["id"]?.GetValue<string>()));
            case "exists":
                return Values(doc.Source, arg!["field"]!.GetValue<string>()).Any();
            case "range":
                {
                    var (field, bounds) = arg!.AsObject().First();
                    var isDate = ix.Types.GetValueOrDefault(field) == "date";
                    return Values(doc.Source, field).Any(x =>
                    {
                        var value = isDate ? DateMs(x) : Num(x);
                        foreach (var (op, boundNode) in bounds!.AsObject())
                        {
                            var bound = isDate ? DateMs(boundNode!) : Num(boundNode!);
                            var ok = op switch { "gte" => value >= bound, "gt" => value > bound, "lte" => value <= bound, "lt" => value < bound, _ => throw new NotSupportedException("range " + op) };
                            if (!ok) return false;
                        }
                        return true;
                    });
                }
            case "match":
                {
                    var (field, v) = arg!.AsObject().First();
                    if (ix.Types.GetValueOrDefault(field) != "text") Violations.Enqueue($"match on non-text field {field}");
                    var text = v is JsonObject mo ? mo["query"]!.GetValue<string>() : v!.GetValue<string>();
                    var and = v is JsonObject mo2 && mo2["operator"]?.GetValue<string>() is "and" or "AND";
                    var wanted = Analyze(text);
                    var have = Values(doc.Source, field).SelectMany(x => Analyze(x.GetValue<string>())).ToHashSet(StringComparer.Ordinal);
                    return wanted.Count > 0 && (and ? wanted.All(have.Contains) : wanted.Any(have.Contains));
                }
            default:
                Violations.Enqueue("unsupported query type " + type);
                return false;
        }
    }

    private static IEnumerable<JsonNode?> Clauses(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a,
        _ => [node],
    };

    private static bool Equal(FakeIndex ix, string field, JsonNode value, JsonNode? wanted)
    {
        if (wanted is null) return false;
        var type = ix.Types.GetValueOrDefault(field, "keyword");
        return type switch
        {
            "date" => DateMs(value) == DateMs(wanted),
            "boolean" => value.GetValue<bool>() == (wanted.GetValueKind() == JsonValueKind.String ? wanted.GetValue<string>() == "true" : wanted.GetValue<bool>()),
            "long" or "integer" or "short" or "byte" or "float" or "double" => Num(value) == Num(wanted),
            _ => value.GetValueKind() == JsonValueKind.String && wanted.GetValueKind() == JsonValueKind.String && value.GetValue<string>() == wanted.GetValue<string>(),
        };
    }

    /// <summary>A stand-in for the standard analyzer: lower-cased runs of letters, digits and marks.</summary>
    private static List<string> Analyze(string text)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        foreach (var r in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
                continue;
            }
            if (sb.Length > 0) tokens.Add(sb.ToString());
            sb.Clear();
        }
        if (sb.Length > 0) tokens.Add(sb.ToString());
        return tokens;
    }

    private static int CompareBySort(JsonArray sort, FakeIndex ia, FakeDoc a, FakeIndex ib, FakeDoc b)
    {
        foreach (var s in sort)
        {
            string field;
            var desc = false;
            if (s is JsonObject so)
            {
                var (f, spec) = so.First();
                field = f;
                desc = (spec is JsonObject specObj ? specObj["order"]?.GetValue<string>() : spec?.GetValue<string>()) == "desc";
            }
            else field = s!.GetValue<string>();
            var va = Values(a.Source, field).FirstOrDefault();
            var vb = Values(b.Source, field).FirstOrDefault();
            int c;
            if (va is null || vb is null) c = va is null ? (vb is null ? 0 : 1) : -1; // missing values sort last either way
            else
            {
                var type = ia.Types.GetValueOrDefault(field, ib.Types.GetValueOrDefault(field, "keyword"));
                c = type switch
                {
                    "date" => DateMs(va).CompareTo(DateMs(vb)),
                    "long" or "integer" or "short" or "byte" or "float" or "double" => Num(va).CompareTo(Num(vb)),
                    _ => string.CompareOrdinal(va.ToString(), vb.ToString()),
                };
                if (desc) c = -c;
            }
            if (c != 0) return c;
        }
        return 0;
    }

    private static IEnumerable<JsonNode> Values(JsonNode? node, string path)
    {
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? path : path[..dot];
        if (node is JsonArray arr)
        {
            foreach (var x in arr)
            {
                foreach (var v in Values(x, path)) yield return v;
            }
            yield break;
        }
        if (node is not JsonObject o || o[head] is not { } child) yield break;
        if (dot >= 0)
        {
            foreach (var v in Values(child, path[(dot + 1)..])) yield return v;
        }
        else if (child is JsonArray items)
        {
            foreach (var x in items)
            {
                if (x is not null) yield return x;
            }
        }
        else yield return child;
    }

    private static double Num(JsonNode v) => v is JsonValue j && j.TryGetValue<double>(out var d) ? d
        : v is JsonValue l && l.TryGetValue<long>(out var n) ? n : double.Parse(v.ToString(), CultureInfo.InvariantCulture);

    private static long DateMs(JsonNode v) => v.GetValueKind() == JsonValueKind.Number
        ? v.GetValue<long>()
        : DateTimeOffset.Parse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds();

    // ------------------------------------------------------------------ Kibana

    private (int, JsonNode?) KibanaImport(HttpListenerRequest req, byte[] body)
    {
        if (req.Headers["kbn-xsrf"] is null)
        {
            Violations.Enqueue("Kibana import without kbn-xsrf header");
            return (400, new JsonObject { ["statusCode"] = 400, ["error"] = "Bad Request", ["message"] = "Request must contain a kbn-xsrf header." });
        }
        var ct = req.ContentType ?? "";
        var b = ct.IndexOf("boundary=", StringComparison.Ordinal);
        if (!ct.StartsWith("multipart/form-data", StringComparison.Ordinal) || b < 0)
        {
            Violations.Enqueue("Kibana import is not multipart/form-data: " + ct);
            return (415, new JsonObject { ["statusCode"] = 415, ["error"] = "Unsupported Media Type" });
        }
        var boundary = "--" + ct[(b + 9)..].Trim('"');
        var text = Encoding.UTF8.GetString(body);
        string? file = null;
        foreach (var part in text.Split(boundary))
        {
            var split = part.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0) continue;
            var headers = part[..split];
            if (!headers.Contains("name=file", StringComparison.Ordinal) && !headers.Contains("name=\"file\"", StringComparison.Ordinal)) continue;
            file = part[(split + 4)..];
            if (file.EndsWith("\r\n", StringComparison.Ordinal)) file = file[..^2];
        }
        if (file is null)
        {
            Violations.Enqueue("Kibana import without a 'file' part");
            return (400, new JsonObject { ["statusCode"] = 400, ["message"] = "no file" });
        }
        var objects = new List<JsonObject>();
        foreach (var line in file.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!TryParseObject(line, out var o) || o["type"] is not JsonValue || o["id"] is not JsonValue || o["attributes"] is not JsonObject)
            {
                Violations.Enqueue("Kibana import: a line is not a saved object");
                return (400, new JsonObject { ["statusCode"] = 400, ["message"] = "bad ndjson" });
            }
            objects.Add(o);
        }
        var known = objects.Select(o => Key(o)).Concat(KibanaObjects.Keys).ToHashSet(StringComparer.Ordinal);
        var errors = new JsonArray();
        foreach (var o in objects)
        {
            foreach (var r in o["references"]?.AsArray() ?? [])
            {
                var key = r!["type"]!.GetValue<string>() + "/" + r["id"]!.GetValue<string>();
                if (!known.Contains(key))
                    errors.Add(new JsonObject { ["id"] = o["id"]!.DeepClone(), ["type"] = o["type"]!.DeepClone(), ["error"] = new JsonObject { ["type"] = "missing_references", ["reference"] = key } });
            }
        }
        if (errors.Count > 0) return (200, new JsonObject { ["success"] = false, ["successCount"] = 0, ["errors"] = errors });
        foreach (var o in objects) KibanaObjects[Key(o)] = o;
        Interlocked.Increment(ref KibanaImports);
        return (200, new JsonObject { ["success"] = true, ["successCount"] = objects.Count });

        static string Key(JsonObject o) => o["type"]!.GetValue<string>() + "/" + o["id"]!.GetValue<string>();
    }

    // ------------------------------------------------------------------ helpers

    private static bool TryParseObject(string line, out JsonObject obj)
    {
        obj = null!;
        try
        {
            if (JsonNode.Parse(line) is not JsonObject o) return false;
            obj = o;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Dictionary<string, string> ParseQuery(string q)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in q.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = kv.IndexOf('=', StringComparison.Ordinal);
            d[Uri.UnescapeDataString(eq < 0 ? kv : kv[..eq])] = eq < 0 ? "" : Uri.UnescapeDataString(kv[(eq + 1)..]);
        }
        return d;
    }

    private static JsonObject Error(string type, string reason, int? status)
    {
        var e = new JsonObject
        {
            ["error"] = new JsonObject { ["root_cause"] = new JsonArray(new JsonObject { ["type"] = type, ["reason"] = reason }), ["type"] = type, ["reason"] = reason },
        };
        if (status is { } s) e["status"] = s;
        return e;
    }

    private sealed class FakeIndex(string name)
    {
        public string Name { get; } = name;
        public bool Strict { get; set; }
        public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Disabled { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, FakeDoc> Docs { get; } = new(StringComparer.Ordinal);
        public long NextSeq { get; set; }
    }

    private sealed record FakeDoc(JsonObject Source, long SeqNo, long Version);

    private sealed class KeyComparer : IComparer<JsonNode>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare(JsonNode? x, JsonNode? y) =>
            x?.GetValueKind() == JsonValueKind.Number && y?.GetValueKind() == JsonValueKind.Number
                ? Num(x).CompareTo(Num(y))
                : string.CompareOrdinal(x?.ToString(), y?.ToString());
    }
}
