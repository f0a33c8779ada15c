using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>
/// The documents the store writes (field names match dashboards/elasticsearch/template-*.json, which map them strictly)
/// and how they read back into domain types.
/// </summary>
internal static class ElasticsearchDocuments
{
    /// <summary>Elasticsearch ids are limited to 512 bytes; longer natural keys are hashed.</summary>
    private const int MaxIdBytes = 480;

    public static string SafeId(string key)
    {
        if (Encoding.UTF8.GetByteCount(key) <= MaxIdBytes) return key;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return "h:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>A stable non-negative number for a key (dead letters carry a numeric id in the store contract).</summary>
    public static long StableNumber(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return BitConverter.ToInt64(hash) & long.MaxValue;
    }

    public static string DeadLetterKey(string source, long offset) => source + "\n" + offset.ToString(CultureInfo.InvariantCulture);

    public static string AggregateId(SeriesPoint p) =>
        SafeId(string.Join('|', p.BucketStart.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), p.Country, p.Region, p.TargetGroup, p.Label));

    public static string CheckpointId(string source) => SafeId("cp:" + source);

    public static string StateId(string key) => SafeId("st:" + key);

    public static void WriteDate(Utf8JsonWriter w, string name, DateTimeOffset t) =>
        w.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    private static void WriteStringOrSkip(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void WriteArray(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    // ---- posts ----

    public static void WritePost(Utf8JsonWriter w, PostEnvelope env, DateTimeOffset now)
    {
        var p = env.Post;
        w.WriteStartObject();
        w.WriteString("id", p.Id);
        WriteStringOrSkip(w, "platform", p.Platform);
        WriteDate(w, "created_at", p.CreatedAt);
        w.WriteString("author", p.AuthorId);
        WriteStringOrSkip(w, "author_handle", p.AuthorHandle);
        w.WriteNumber("author_followers", p.AuthorFollowers);
        w.WriteString("text", p.Text);
        WriteStringOrSkip(w, "lang", p.Lang);
        WriteStringOrSkip(w, "country", p.Country);
        WriteStringOrSkip(w, "region", p.Region);
        if (TryReadGeo(p.Raw.Span, out var lat, out var lon))
        {
            w.WriteStartObject("geo");
            w.WriteStartObject("location");
            w.WriteNumber("lat", lat);
            w.WriteNumber("lon", lon);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        WriteStringOrSkip(w, "reply_to", p.ReplyTo);
        WriteStringOrSkip(w, "repost_of", p.RepostOf);
        WriteStringOrSkip(w, "quote_of", p.QuoteOf);
        WriteArray(w, "mentions", p.Mentions);
        WriteArray(w, "hashtags", p.Hashtags);
        WriteArray(w, "urls", p.Urls);
        if (p.Media.Count > 0)
        {
            w.WriteStartArray("media");
            foreach (var m in p.Media)
            {
                w.WriteStartObject();
                w.WriteString("type", m.Type);
                WriteStringOrSkip(w, "pdq", m.Pdq);
                WriteStringOrSkip(w, "md5", m.Md5);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        WriteStringOrSkip(w, "reported_by", p.ReportedBy);
        w.WriteString("source", env.Position.Source);
        w.WriteNumber("source_offset", env.Position.Offset);
        WriteDate(w, "stored_at", now);
        if (env.Decision is { } d)
        {
            w.WriteStartObject("decision");
            w.WriteString("label", d.Label);
            w.WriteStartArray("scores");
            foreach (var s in d.Scores) w.WriteNumberValue(Finite(s));
            w.WriteEndArray();
            w.WriteNumber("incitement", Finite(d.Incitement));
            w.WriteNumber("dehumanisation", Finite(d.Dehumanisation));
            WriteStringOrSkip(w, "target", d.Target);
            w.WriteBoolean("flagged", d.IsFlagged);
            WriteArray(w, "explanation", d.Explanation);
            WriteArray(w, "terms", d.Terms);
            w.WriteString("model", d.Model);
            w.WriteEndObject();
        }
        WriteRaw(w, p.Raw.Span);
        w.WriteEndObject();
    }

    /// <summary>
    /// The original message, kept whole (unknown fields included) in an unindexed object. NDJSON forbids line breaks
    /// inside a document, so a pretty-printed original is re-serialised compactly; anything that is not a JSON object is left out.
    /// </summary>
    private static void WriteRaw(Utf8JsonWriter w, ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty || !IsJsonObject(raw)) return;
        w.WritePropertyName("raw");
        if (raw.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            w.WriteRawValue(raw, skipInputValidation: true);
            return;
        }
        var reader = new Utf8JsonReader(raw);
        using var doc = JsonDocument.ParseValue(ref reader);
        doc.RootElement.WriteTo(w);
    }

    private static bool IsJsonObject(ReadOnlySpan<byte> json)
    {
        try
        {
            var r = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
            r.Skip();
            return !r.Read(); // nothing after the object
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Coordinates from the original message's <c>geo</c> object (<c>lat</c>/<c>lon</c>), when it has them.</summary>
    internal static bool TryReadGeo(ReadOnlySpan<byte> raw, out double lat, out double lon)
    {
        lat = lon = double.NaN;
        if (raw.IsEmpty || raw.IndexOf("\"geo\""u8) < 0) return false;
        try
        {
            var r = new Utf8JsonReader(raw);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var isGeo = r.ValueTextEquals("geo"u8);
                r.Read();
                if (!isGeo || r.TokenType != JsonTokenType.StartObject)
                {
                    r.Skip();
                    continue;
                }
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var isLat = r.ValueTextEquals("lat"u8) || r.ValueTextEquals("latitude"u8);
                    var isLon = r.ValueTextEquals("lon"u8) || r.ValueTextEquals("lng"u8) || r.ValueTextEquals("longitude"u8);
                    r.Read();
                    if (r.TokenType == JsonTokenType.Number && (isLat || isLon))
                    {
                        if (isLat) lat = r.GetDouble();
                        else lon = r.GetDouble();
                    }
                    else r.Skip();
                }
                return lat is >= -90 and <= 90 && lon is >= -180 and <= 180;
            }
        }
        catch (JsonException)
        {
            // Not our job to judge the original here; without readable coordinates the post simply has no location.
        }
        return false;
    }

    public static StoredPost ReadPost(JsonElement s)
    {
        string? label = null, target = null, model = null;
        float[]? scores = null;
        float incitement = 0, dehumanisation = 0;
        IReadOnlyList<string> explanation = [];
        if (s.TryGetProperty("decision", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            label = Str(d, "label");
            target = Str(d, "target");
            model = Str(d, "model");
            if (d.TryGetProperty("scores", out var sc) && sc.ValueKind == JsonValueKind.Array)
                scores = sc.EnumerateArray().Select(x => x.GetSingle()).ToArray();
            incitement = Float(d, "incitement");
            dehumanisation = Float(d, "dehumanisation");
            explanation = StrList(d, "explanation");
        }
        return new StoredPost(Str(s, "id") ?? "", Date(s, "created_at"), Str(s, "author") ?? "", Str(s, "text") ?? "", Str(s, "lang"),
            Str(s, "country"), Str(s, "region"), label, scores, target, incitement, dehumanisation, explanation, model);
    }

    // ---- alerts ----

    /// <summary>
    /// A bulk <c>update</c> body: <c>doc</c> refreshes what detection owns (severity, score, window end, evidence, ...)
    /// and leaves status, audit trail and first detection time alone; <c>upsert</c> is the whole alert for a new id.
    /// </summary>
    public static void WriteAlertUpsert(Utf8JsonWriter w, Alert a, DateTimeOffset now)
    {
        w.WriteStartObject();
        w.WriteStartObject("doc");
        WriteAlertFields(w, a, now, detectionOnly: true);
        w.WriteEndObject();
        w.WriteStartObject("upsert");
        WriteAlertFields(w, a, now, detectionOnly: false);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteAlert(Utf8JsonWriter w, Alert a, DateTimeOffset now)
    {
        w.WriteStartObject();
        WriteAlertFields(w, a, now, detectionOnly: false);
        w.WriteEndObject();
    }

    private static void WriteAlertFields(Utf8JsonWriter w, Alert a, DateTimeOffset now, bool detectionOnly)
    {
        w.WriteString("id", a.Id);
        w.WriteString("kind", a.Kind);
        w.WriteString("severity", Alert.SeverityName(a.Severity));
        w.WriteNumber("severity_level", (int)a.Severity);
        w.WriteNumber("score", Finite(a.Score));
        WriteDate(w, "window_start", a.WindowStart);
        WriteDate(w, "window_end", a.WindowEnd);
        w.WriteStartObject("scope");
        WriteStringOrSkip(w, "country", a.Scope.Country);
        WriteStringOrSkip(w, "region", a.Scope.Region);
        WriteStringOrSkip(w, "target_group", a.Scope.TargetGroup);
        WriteStringOrSkip(w, "language", a.Scope.Language);
        WriteStringOrSkip(w, "term", a.Scope.Term);
        w.WriteEndObject();
        w.WriteNumber("baseline", Finite(a.Baseline));
        w.WriteNumber("observed", Finite(a.Observed));
        w.WriteStartObject("evidence");
        WriteArray(w, "post_ids", a.Evidence.PostIds);
        WriteArray(w, "top_terms", a.Evidence.TopTerms);
        WriteArray(w, "accounts", a.Evidence.Accounts);
        WriteArray(w, "excerpts", a.Evidence.Excerpts);
        w.WriteEndObject();
        w.WriteString("explanation", a.Explanation);
        WriteStringOrSkip(w, "model", a.Model);
        WriteDate(w, "updated_at", now);
        if (detectionOnly) return;
        WriteDate(w, "detected_at", a.DetectedAt);
        w.WriteString("status", a.Status);
        WriteAudit(w, a.Audit);
    }

    public static void WriteAudit(Utf8JsonWriter w, IEnumerable<AuditEntry> audit)
    {
        w.WriteStartArray("audit");
        foreach (var e in audit)
        {
            w.WriteStartObject();
            WriteDate(w, "at", e.At);
            w.WriteString("actor", e.Actor);
            w.WriteString("action", e.Action);
            WriteStringOrSkip(w, "note", e.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    // JSON has no NaN or infinity; a detector that produced one must not make the whole alert unwritable.
    private static double Finite(double v) => double.IsFinite(v) ? v : (double.IsPositiveInfinity(v) ? double.MaxValue : 0);

    private static float Finite(float v) => float.IsFinite(v) ? v : (float.IsPositiveInfinity(v) ? float.MaxValue : 0f);

    public static Alert ReadAlert(JsonElement s)
    {
        var scope = s.TryGetProperty("scope", out var sc) && sc.ValueKind == JsonValueKind.Object
            ? new Scope(Str(sc, "country"), Str(sc, "region"), Str(sc, "target_group"), Str(sc, "language"), Str(sc, "term"))
            : new Scope();
        var ev = s.TryGetProperty("evidence", out var e) && e.ValueKind == JsonValueKind.Object
            ? new Evidence { PostIds = StrList(e, "post_ids"), TopTerms = StrList(e, "top_terms"), Accounts = StrList(e, "accounts"), Excerpts = StrList(e, "excerpts") }
            : new Evidence();
        var audit = new List<AuditEntry>();
        if (s.TryGetProperty("audit", out var au) && au.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in au.EnumerateArray())
                audit.Add(new AuditEntry(Date(x, "at"), Str(x, "actor") ?? "", Str(x, "action") ?? "", Str(x, "note")));
        }
        Severity severity;
        try { severity = Alert.ParseSeverity(Str(s, "severity") ?? "low"); }
        catch (FormatException) { severity = Severity.Low; }
        return new Alert
        {
            Id = Str(s, "id") ?? "",
            Kind = Str(s, "kind") ?? "",
            Severity = severity,
            Score = Double(s, "score"),
            WindowStart = Date(s, "window_start"),
            WindowEnd = Date(s, "window_end"),
            DetectedAt = Date(s, "detected_at"),
            Scope = scope,
            Baseline = Double(s, "baseline"),
            Observed = Double(s, "observed"),
            Evidence = ev,
            Explanation = Str(s, "explanation") ?? "",
            Model = Str(s, "model"),
            Status = Str(s, "status") ?? AlertStatus.New,
            Audit = audit,
        };
    }

    // ---- dead letters, aggregates, state, feedback ----

    public static void WriteDeadLetter(Utf8JsonWriter w, long id, string source, long offset, string reason, string? detail,
        ReadOnlySpan<byte> bytes, DateTimeOffset receivedAt, DateTimeOffset now, long seq)
    {
        w.WriteStartObject();
        w.WriteNumber("id", id);
        w.WriteString("source", source);
        w.WriteNumber("offset", offset);
        w.WriteString("reason", reason);
        WriteStringOrSkip(w, "detail", detail);
        w.WriteBase64String("bytes", bytes);
        WriteDate(w, "received_at", receivedAt);
        WriteDate(w, "stored_at", now);
        w.WriteNumber("seq", seq);
        w.WriteEndObject();
    }

    public static StoredDeadLetter ReadDeadLetter(JsonElement s)
    {
        byte[] bytes;
        try { bytes = s.TryGetProperty("bytes", out var b) && b.ValueKind == JsonValueKind.String ? b.GetBytesFromBase64() : []; }
        catch (FormatException) { bytes = []; }
        return new StoredDeadLetter(Long(s, "id"), Str(s, "source") ?? "", Long(s, "offset"), Str(s, "reason") ?? "", bytes, Date(s, "received_at"));
    }

    public static void WriteAggregate(Utf8JsonWriter w, SeriesPoint p, DateTimeOffset now)
    {
        w.WriteStartObject();
        WriteDate(w, "bucket_start", p.BucketStart);
        w.WriteString("country", p.Country);
        w.WriteString("region", p.Region);
        w.WriteString("target_group", p.TargetGroup);
        w.WriteString("label", p.Label);
        w.WriteNumber("count", p.Count);
        WriteDate(w, "updated_at", now);
        w.WriteEndObject();
    }

    public static void WriteCheckpoint(Utf8JsonWriter w, string source, long offset, DateTimeOffset now)
    {
        w.WriteStartObject();
        w.WriteString("kind", "checkpoint");
        w.WriteString("key", source);
        w.WriteNumber("offset", offset);
        WriteDate(w, "updated_at", now);
        w.WriteEndObject();
    }

    public static void WriteState(Utf8JsonWriter w, string key, ReadOnlySpan<byte> bytes, DateTimeOffset now)
    {
        w.WriteStartObject();
        w.WriteString("kind", "state");
        w.WriteString("key", key);
        w.WriteBase64String("bytes", bytes);
        WriteDate(w, "updated_at", now);
        w.WriteEndObject();
    }

    public static void WriteFeedback(Utf8JsonWriter w, Feedback f, long seq)
    {
        w.WriteStartObject();
        w.WriteString("post_id", f.PostId);
        w.WriteString("label", f.Label);
        w.WriteString("actor", f.Actor);
        WriteStringOrSkip(w, "note", f.Note);
        WriteDate(w, "at", f.At);
        w.WriteNumber("seq", seq);
        w.WriteEndObject();
    }

    public static Feedback ReadFeedback(JsonElement s) =>
        new(Str(s, "post_id") ?? "", Str(s, "label") ?? "", Str(s, "actor") ?? "", Str(s, "note"), Date(s, "at"));

    // ---- reading helpers: a damaged field reads as empty, never throws ----

    public static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static List<string> StrList(JsonElement o, string name)
    {
        var list = new List<string>();
        if (!o.TryGetProperty(name, out var v)) return list;
        if (v.ValueKind == JsonValueKind.String) list.Add(v.GetString()!);
        else if (v.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in v.EnumerateArray())
            {
                if (x.ValueKind == JsonValueKind.String) list.Add(x.GetString()!);
            }
        }
        return list;
    }

    public static double Double(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

    public static float Float(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : 0f;

    public static long Long(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : -1;

    public static DateTimeOffset Date(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v)) return default;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var ms)) return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (v.ValueKind == JsonValueKind.String &&
            DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        return default;
    }
}
