using System.Buffers;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Kafka.Sinks;

/// <summary>
/// The JSON form of an alert on the <c>alerts</c> topic (DESIGN.md, "Output: an alert"; keys in snake_case, times in
/// RFC 3339 UTC). <see cref="Deserialize"/> reads it back for consumers of the topic.
/// </summary>
public static class AlertJson
{
    public static byte[] Serialize(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", alert.Id);
            w.WriteString("kind", alert.Kind);
            w.WriteString("severity", Alert.SeverityName(alert.Severity));
            w.WriteNumber("score", alert.Score);
            w.WriteStartObject("window");
            w.WriteString("start", alert.WindowStart.UtcDateTime);
            w.WriteString("end", alert.WindowEnd.UtcDateTime);
            w.WriteEndObject();
            w.WriteString("detected_at", alert.DetectedAt.UtcDateTime);
            w.WriteStartObject("scope");
            WriteNullable(w, "country", alert.Scope.Country);
            WriteNullable(w, "region", alert.Scope.Region);
            WriteNullable(w, "target_group", alert.Scope.TargetGroup);
            WriteNullable(w, "language", alert.Scope.Language);
            WriteNullable(w, "term", alert.Scope.Term);
            w.WriteEndObject();
            w.WriteNumber("baseline", alert.Baseline);
            w.WriteNumber("observed", alert.Observed);
            w.WriteStartObject("evidence");
            WriteStrings(w, "post_ids", alert.Evidence.PostIds);
            WriteStrings(w, "top_terms", alert.Evidence.TopTerms);
            WriteStrings(w, "accounts", alert.Evidence.Accounts);
            WriteStrings(w, "excerpts", alert.Evidence.Excerpts);
            w.WriteEndObject();
            w.WriteString("explanation", alert.Explanation);
            WriteNullable(w, "model", alert.Model);
            w.WriteString("status", alert.Status);
            w.WriteStartArray("audit");
            foreach (var a in alert.Audit)
            {
                w.WriteStartObject();
                w.WriteString("at", a.At.UtcDateTime);
                w.WriteString("actor", a.Actor);
                w.WriteString("action", a.Action);
                WriteNullable(w, "note", a.Note);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads an alert written by <see cref="Serialize"/>. Throws <see cref="JsonException"/> or <see cref="FormatException"/> on bad input.</summary>
    public static Alert Deserialize(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var r = doc.RootElement;
        var window = r.GetProperty("window");
        var scope = r.GetProperty("scope");
        var evidence = r.GetProperty("evidence");
        return new Alert
        {
            Id = r.GetProperty("id").GetString() ?? throw new FormatException("alert without id"),
            Kind = r.GetProperty("kind").GetString() ?? throw new FormatException("alert without kind"),
            Severity = Alert.ParseSeverity(r.GetProperty("severity").GetString() ?? ""),
            Score = r.GetProperty("score").GetDouble(),
            WindowStart = window.GetProperty("start").GetDateTimeOffset(),
            WindowEnd = window.GetProperty("end").GetDateTimeOffset(),
            DetectedAt = r.GetProperty("detected_at").GetDateTimeOffset(),
            Scope = new Scope(Str(scope, "country"), Str(scope, "region"), Str(scope, "target_group"), Str(scope, "language"), Str(scope, "term")),
            Baseline = r.GetProperty("baseline").GetDouble(),
            Observed = r.GetProperty("observed").GetDouble(),
            Evidence = new Evidence
            {
                PostIds = Strings(evidence, "post_ids"),
                TopTerms = Strings(evidence, "top_terms"),
                Accounts = Strings(evidence, "accounts"),
                Excerpts = Strings(evidence, "excerpts"),
            },
            Explanation = r.GetProperty("explanation").GetString() ?? string.Empty,
            Model = Str(r, "model"),
            Status = r.GetProperty("status").GetString() ?? AlertStatus.New,
            Audit = [.. r.GetProperty("audit").EnumerateArray().Select(a => new AuditEntry(
                a.GetProperty("at").GetDateTimeOffset(), a.GetProperty("actor").GetString() ?? "",
                a.GetProperty("action").GetString() ?? "", Str(a, "note")))],
        };
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(x => x.GetString() ?? string.Empty)]
            : [];

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
