using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>
/// The JSON body a webhook receives: the event (<c>alert.created</c> or <c>alert.updated</c> when the severity
/// rose), the idempotency key, and the alert with its CAP-style wording and links. Written once per delivery, so
/// every retry carries the same bytes and the same signature.
/// </summary>
public static class AlertPayload
{
    public const string Created = "alert.created";
    public const string Updated = "alert.updated";

    public static byte[] Serialize(Alert alert, Subscription subscription, string idempotencyKey, bool isUpdate, DateTimeOffset sentAt, AlertLinks links)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(links);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("event", isUpdate ? Updated : Created);
            w.WriteString("idempotency_key", idempotencyKey);
            w.WriteString("subscription", subscription.Id);
            w.WriteString("sent_at", Time(sentAt));
            w.WritePropertyName("alert");
            WriteAlert(w, alert, links);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Writes one alert object (shared by the webhook body and anything else that wants the same shape).</summary>
    public static void WriteAlert(Utf8JsonWriter w, Alert alert, AlertLinks links)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(links);
        w.WriteStartObject();
        w.WriteString("id", alert.Id);
        w.WriteString("kind", alert.Kind);
        w.WriteString("event", CapMapping.EventName(alert.Kind));
        w.WriteString("severity", Alert.SeverityName(alert.Severity));
        w.WriteNumber("score", Finite(alert.Score));
        w.WriteString("cap_severity", CapMapping.Severity(alert));
        w.WriteString("cap_urgency", CapMapping.Urgency(alert));
        w.WriteString("cap_certainty", CapMapping.Certainty(alert));
        w.WriteString("status", alert.Status);
        w.WriteStartObject("window");
        w.WriteString("start", Time(alert.WindowStart));
        w.WriteString("end", Time(alert.WindowEnd));
        w.WriteEndObject();
        w.WriteString("detected_at", Time(alert.DetectedAt));
        w.WriteStartObject("scope");
        w.WriteString("country", alert.Scope.Country);
        w.WriteString("region", alert.Scope.Region);
        w.WriteString("target_group", alert.Scope.TargetGroup);
        w.WriteString("language", alert.Scope.Language);
        w.WriteString("term", alert.Scope.Term);
        w.WriteEndObject();
        w.WriteNumber("baseline", Finite(alert.Baseline));
        w.WriteNumber("observed", Finite(alert.Observed));
        w.WriteString("explanation", alert.Explanation);
        w.WriteString("model", alert.Model);
        w.WriteStartObject("evidence");
        Strings(w, "post_ids", alert.Evidence.PostIds);
        Strings(w, "top_terms", alert.Evidence.TopTerms);
        Strings(w, "accounts", alert.Evidence.Accounts);
        Strings(w, "excerpts", alert.Evidence.Excerpts);
        w.WriteEndObject();
        w.WriteStartObject("links");
        w.WriteString("dashboard", links.Dashboard(alert.Id));
        w.WriteString("json", links.Json(alert.Id));
        w.WriteString("cap", links.Cap(alert.Id));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, List<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static double Finite(double d) => double.IsFinite(d) ? d : 0;

    internal static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>UTF-8 text of a payload (tests and logs of ids only).</summary>
    public static string ToText(byte[] payload) => Encoding.UTF8.GetString(payload);
}
