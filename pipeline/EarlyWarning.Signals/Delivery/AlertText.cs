using System.Globalization;
using System.Text;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>
/// The plain-text alert a field worker reads on a phone: what, where, when, how bad, how sure, the explanation
/// sentence and a link. Post text appears only as the alert's own short excerpts, cut to
/// <see cref="MaxExcerptLength"/> characters.
/// </summary>
public static class AlertText
{
    public const int MaxExcerptLength = 140;
    public const int MaxExcerpts = 3;

    public static string Subject(Alert alert, bool isUpdate)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var sev = Alert.SeverityName(alert.Severity).ToUpperInvariant();
        var prefix = isUpdate ? "[EarlyWarning] UPDATE " : "[EarlyWarning] ";
        return Clean($"{prefix}{sev}: {CapMapping.EventName(alert.Kind)} in {CapMapping.Where(alert.Scope)}", 200);
    }

    public static string Body(Alert alert, AlertLinks links, Subscription subscription, bool isUpdate, bool includeExcerpts = true)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(subscription);
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"EarlyWarning alert {alert.Id}{(isUpdate ? " - severity raised" : "")}").Append('\n').Append('\n');
        var what = CapMapping.EventName(alert.Kind);
        if (!string.IsNullOrEmpty(alert.Scope.TargetGroup)) what += " targeting " + alert.Scope.TargetGroup.Replace('_', ' ');
        if (!string.IsNullOrEmpty(alert.Scope.Term)) what += " (term: " + Clean(alert.Scope.Term, 60) + ")";
        Line(sb, "What", $"{what} [{alert.Kind}]");
        Line(sb, "Where", CapMapping.Where(alert.Scope) + (string.IsNullOrEmpty(alert.Scope.Language) ? "" : $" (language: {alert.Scope.Language})"));
        Line(sb, "When", $"{Short(alert.WindowStart)} to {Short(alert.WindowEnd)} UTC (detected {Short(alert.DetectedAt)})");
        Line(sb, "How bad", $"{Alert.SeverityName(alert.Severity)} (CAP severity {CapMapping.Severity(alert)}, urgency {CapMapping.Urgency(alert)})");
        Line(sb, "How sure", string.Create(ci, $"{CapMapping.Certainty(alert)} (detector score {alert.Score:0.##}; observed {alert.Observed:0.##} against a baseline of {alert.Baseline:0.##})"));
        Line(sb, "Status", alert.Status);
        sb.Append('\n').Append(Clean(alert.Explanation, 1000)).Append('\n');
        if (includeExcerpts && alert.Evidence.Excerpts.Count > 0)
        {
            sb.Append('\n').Append("Short excerpts from the evidence (may be offensive):").Append('\n');
            foreach (var e in alert.Evidence.Excerpts.Take(MaxExcerpts))
                sb.Append("  - \"").Append(Clean(e, MaxExcerptLength)).Append('"').Append('\n');
        }
        sb.Append('\n');
        Line(sb, "Open", links.Dashboard(alert.Id));
        Line(sb, "CAP 1.2", links.Cap(alert.Id));
        sb.Append('\n');
        sb.Append(ci, $"You receive this through the subscription \"{Clean(subscription.Name, 100)}\" ({subscription.Id}). ");
        sb.Append("Acknowledge, escalate or mark it wrong on the dashboard.").Append('\n');
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string label, string value) =>
        sb.Append(label).Append(':').Append(' ', Math.Max(1, 10 - label.Length - 1)).Append(value).Append('\n');

    private static string Short(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>One line, no control characters, at most <paramref name="max"/> characters (with an ellipsis when cut).</summary>
    internal static string Clean(string? s, int max)
    {
        if (string.IsNullOrEmpty(s)) return "";
        var sb = new StringBuilder(Math.Min(s.Length, max + 1));
        var lastSpace = false;
        foreach (var c in s)
        {
            var ch = char.IsControl(c) || char.IsWhiteSpace(c) ? ' ' : c;
            if (ch == ' ' && (lastSpace || sb.Length == 0)) continue;
            sb.Append(ch);
            lastSpace = ch == ' ';
        }
        var t = sb.ToString().TrimEnd();
        if (t.Length <= max) return t;
        var cut = max - 1;
        if (char.IsHighSurrogate(t[cut - 1])) cut--;
        return t[..cut] + "…";
    }
}
