using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Signals.Delivery;

/// <summary>Why an analyst dismissed an alert, as far as it matters for evaluation and training.</summary>
public enum DismissalReason
{
    /// <summary>The content was not hateful (counter-speech, news, satire, a misread word): the evidence posts become "none" examples.</summary>
    NotHateful = 0,
    /// <summary>Real content, wrong place or scope: a false alert for that region, but no label change.</summary>
    WrongScope = 1,
    /// <summary>Real and hateful, but already covered by another alert: not counted as a false alert.</summary>
    Duplicate = 2,
    /// <summary>Real activity that is expected or harmless in context (a rally, a holiday): a false alert, no label change.</summary>
    Expected = 3,
    /// <summary>Anything else: a false alert, no label change.</summary>
    Other = 4,
}

/// <summary>How an alert was judged by people, for detector evaluation (false alerts per kind and region).</summary>
public sealed record DetectorEvaluationRecord(
    string AlertId, string Kind, string? Country, string? Region, string? Detector, string Outcome, string? Reason, string Actor, DateTimeOffset At)
{
    public const string FalseAlert = "false_alert";
    public const string Confirmed = "confirmed";
    public const string DuplicateAlert = "duplicate";
}

/// <summary>What one status change gives back: an evaluation record (if the change is a judgement) and training feedback.</summary>
public sealed record AlertFeedbackResult(DetectorEvaluationRecord? Evaluation, IReadOnlyList<Feedback> Training);

/// <summary>Alerts and judgements per kind and region, with the share of judged alerts that were false.</summary>
public sealed record FalseAlertSummary(string Kind, string? Country, string? Region, int Alerts, int Confirmed, int FalseAlerts, int Duplicates)
{
    /// <summary>False alerts over judged alerts (confirmed + false); null before any judgement.</summary>
    public double? FalseAlertShare => Confirmed + FalseAlerts == 0 ? null : (double)FalseAlerts / (Confirmed + FalseAlerts);
}

/// <summary>
/// Lifecycle feedback: a dismissal (status <c>dismissed</c> with a reason) becomes a false-alert record for the
/// detector that raised it (per kind and region), and, when the reason says the content was not hateful, training
/// feedback labelling each evidence post <c>none</c>. An escalation confirms the alert. Reasons are read from the
/// note: a leading code (<c>not_hateful</c>, <c>wrong_scope</c>, <c>duplicate</c>, <c>expected</c>, <c>other</c>)
/// or, failing that, plain words ("not hateful", "counter-speech", "news report", "satire", "duplicate", ...).
/// </summary>
public static class AlertFeedback
{
    private static readonly (string Code, DismissalReason Reason)[] Codes =
    [
        ("not_hateful", DismissalReason.NotHateful), ("wrong_scope", DismissalReason.WrongScope), ("wrong_region", DismissalReason.WrongScope),
        ("duplicate", DismissalReason.Duplicate), ("expected", DismissalReason.Expected), ("other", DismissalReason.Other),
    ];

    private static readonly string[] NotHatefulWords =
    [
        "not hate", "not hateful", "no hate", "isn't hate", "is not hate", "not offensive", "benign", "harmless content",
        "counter-speech", "counter speech", "counterspeech", "news report", "reporting on", "journalism", "satire", "quoting",
        "misclassified", "mislabelled", "mislabeled", "wrong label",
    ];

    private static readonly string[] WrongScopeWords = ["wrong region", "wrong place", "wrong country", "wrong scope", "wrong target", "not in "];
    private static readonly string[] DuplicateWords = ["duplicate", "already reported", "same as", "covered by"];
    private static readonly string[] ExpectedWords = ["expected", "scheduled", "rally", "holiday", "festival", "match day", "known event"];

    /// <summary>Reads the reason of a dismissal note.</summary>
    public static DismissalReason ClassifyReason(string? note)
    {
        if (string.IsNullOrWhiteSpace(note)) return DismissalReason.Other;
        var n = note.Trim().ToLowerInvariant();
        foreach (var (code, reason) in Codes)
            if (n.StartsWith(code, StringComparison.Ordinal) && (n.Length == code.Length || !char.IsLetterOrDigit(n[code.Length]) && n[code.Length] != '_'))
                return reason;
        if (NotHatefulWords.Any(w => n.Contains(w, StringComparison.Ordinal))) return DismissalReason.NotHateful;
        if (DuplicateWords.Any(w => n.Contains(w, StringComparison.Ordinal))) return DismissalReason.Duplicate;
        if (WrongScopeWords.Any(w => n.Contains(w, StringComparison.Ordinal))) return DismissalReason.WrongScope;
        if (ExpectedWords.Any(w => n.Contains(w, StringComparison.Ordinal))) return DismissalReason.Expected;
        return DismissalReason.Other;
    }

    /// <summary>The snake_case code of a reason (as stored in evaluation records).</summary>
    public static string Code(DismissalReason reason) => reason switch
    {
        DismissalReason.NotHateful => "not_hateful",
        DismissalReason.WrongScope => "wrong_scope",
        DismissalReason.Duplicate => "duplicate",
        DismissalReason.Expected => "expected",
        _ => "other",
    };

    /// <summary>
    /// Turns a status change into feedback. <c>dismissed</c> → a false-alert record (or a duplicate record) and, for
    /// <see cref="DismissalReason.NotHateful"/>, one <see cref="Feedback"/> with label <c>none</c> per evidence post;
    /// <c>escalated</c> → a confirmed record; other statuses → nothing.
    /// </summary>
    public static AlertFeedbackResult FromStatusChange(Alert alert, string status, string actor, string? note, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (status == AlertStatus.Escalated)
            return new AlertFeedbackResult(Record(alert, DetectorEvaluationRecord.Confirmed, null, actor, at), []);
        if (status != AlertStatus.Dismissed) return new AlertFeedbackResult(null, []);

        var reason = ClassifyReason(note);
        var outcome = reason == DismissalReason.Duplicate ? DetectorEvaluationRecord.DuplicateAlert : DetectorEvaluationRecord.FalseAlert;
        var eval = Record(alert, outcome, Code(reason), actor, at);
        if (reason != DismissalReason.NotHateful) return new AlertFeedbackResult(eval, []);
        var why = $"alert {alert.Id} dismissed as not hateful" + (string.IsNullOrWhiteSpace(note) ? "" : ": " + AlertText.Clean(note, 300));
        var training = alert.Evidence.PostIds
            .Where(id => !string.IsNullOrEmpty(id))
            .Distinct(StringComparer.Ordinal)
            .Select(id => new Feedback(id, Labels.None, actor, why, at))
            .ToList();
        return new AlertFeedbackResult(eval, training);
    }

    /// <summary>
    /// Feedback from the alert's own audit trail: the latest entry whose action names a judgement (<c>dismissed</c>
    /// or <c>escalated</c>, bare or as <c>status:…</c>), or an empty result when there is none.
    /// </summary>
    public static AlertFeedbackResult FromAudit(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        for (var i = alert.Audit.Count - 1; i >= 0; i--)
        {
            var e = alert.Audit[i];
            var status = StatusOf(e.Action);
            if (status is AlertStatus.Dismissed or AlertStatus.Escalated)
                return FromStatusChange(alert, status, string.IsNullOrWhiteSpace(e.Actor) ? "unknown" : e.Actor, e.Note, e.At);
        }
        return new AlertFeedbackResult(null, []);
    }

    /// <summary>Alerts, confirmations and false alerts per kind and region (from each alert's latest judgement).</summary>
    public static IReadOnlyList<FalseAlertSummary> Summarize(IEnumerable<Alert> alerts)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        return alerts
            .GroupBy(a => (a.Kind, a.Scope.Country, a.Scope.Region))
            .Select(g =>
            {
                int confirmed = 0, falseAlerts = 0, dup = 0;
                foreach (var a in g)
                {
                    switch (FromAudit(a).Evaluation?.Outcome)
                    {
                        case DetectorEvaluationRecord.Confirmed: confirmed++; break;
                        case DetectorEvaluationRecord.FalseAlert: falseAlerts++; break;
                        case DetectorEvaluationRecord.DuplicateAlert: dup++; break;
                    }
                }
                return new FalseAlertSummary(g.Key.Kind, g.Key.Country, g.Key.Region, g.Count(), confirmed, falseAlerts, dup);
            })
            .OrderBy(s => s.Kind, StringComparer.Ordinal).ThenBy(s => s.Country, StringComparer.Ordinal).ThenBy(s => s.Region, StringComparer.Ordinal)
            .ToList();
    }

    private static string? StatusOf(string action)
    {
        var a = action.StartsWith("status:", StringComparison.Ordinal) ? action[7..] : action;
        return AlertStatus.IsValid(a) ? a : null;
    }

    private static DetectorEvaluationRecord Record(Alert alert, string outcome, string? reason, string actor, DateTimeOffset at) =>
        new(alert.Id, alert.Kind, alert.Scope.Country, alert.Scope.Region, DetectorOf(alert.Model), outcome, reason, actor, at);

    /// <summary>The detector name alert rules put in parentheses after the model ("model (detector)").</summary>
    private static string? DetectorOf(string? model)
    {
        if (model is null) return null;
        var open = model.LastIndexOf('(');
        var close = model.LastIndexOf(')');
        return open >= 0 && close > open + 1 ? model[(open + 1)..close] : null;
    }
}
