using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Engine;

/// <summary>
/// Signal → alert: identity (<see cref="Alert.MakeId"/> of kind, scope, window start), dedupe (a continuing anomaly in
/// the same scope extends the open alert), and the window cap (no alert window longer than
/// <see cref="SignalOptions.MaxAlertWindow"/>; a persisting anomaly then opens the next alert where the last ended).
/// </summary>
internal sealed class AlertRules(SignalOptions o)
{
    private const int MaxPostIds = 10;
    private const int MaxTerms = 10;
    private const int MaxAccounts = 20;
    private const int MaxExcerpts = 3;

    public static string Key(string kind, Scope scope) => kind + "|" + scope;

    /// <summary>
    /// Kinds whose signals carry a cumulative window from a fixed origin (a campaign keeps its start while it grows):
    /// their alerts tile that window from the origin in <see cref="SignalOptions.MaxAlertWindow"/> steps, so an
    /// alert's start (hence its id) depends only on the campaign, never on when between its waves a signal came.
    /// </summary>
    internal static bool IsTiled(string kind) => kind == AlertKinds.CoordinatedCampaign;

    public Alert Apply(EngineState st, Signal s, Severity severity, string explanation, DateTimeOffset detectedAt)
    {
        var key = Key(s.Kind, s.Scope);
        var maxW = o.MaxAlertWindow;
        if (IsTiled(s.Kind)) return ApplyTiled(st, key, s, severity, explanation, detectedAt);
        var start = s.WindowStart < s.WindowEnd - maxW ? s.WindowEnd - maxW : s.WindowStart;
        if (st.Open.TryGetValue(key, out var open))
        {
            if (s.WindowStart <= open.WindowEnd + o.SuppressGap)
            {
                if (s.WindowEnd <= open.WindowStart + maxW)
                {
                    Extend(open, s, severity, explanation);
                    MarkPending(st, open);
                    return open;
                }
                // The open alert reaches its cap; the anomaly continues in a new alert from there.
                var cap = open.WindowStart + maxW;
                if (open.WindowEnd < cap && s.WindowEnd > open.WindowEnd)
                {
                    open.WindowEnd = cap;
                    MarkPending(st, open);
                }
                if (start < open.WindowEnd) start = open.WindowEnd;
            }
            Close(st, key, open);
        }
        return Open(st, key, NewAlert(s, Alert.MakeId(s.Kind, s.Scope, start), start, severity, explanation, detectedAt));
    }

    private Alert ApplyTiled(EngineState st, string key, Signal s, Severity severity, string explanation, DateTimeOffset detectedAt)
    {
        var tile = o.MaxAlertWindow.Ticks;
        // Tiles count from the signal's origin, or, when it continues the open alert, from that alert's start (itself
        // a tile boundary of the same origin for a growing campaign).
        st.Open.TryGetValue(key, out var open);
        var reference = open is not null && s.WindowStart <= open.WindowEnd + o.SuppressGap ? open.WindowStart : s.WindowStart;
        var span = Math.Max(0, (s.WindowEnd - reference).Ticks);
        // The tile holding the window's end; an end exactly on a boundary still belongs to the tile it closes.
        var k = span / tile;
        if (k > 0 && span % tile == 0) k--;
        var start = reference + TimeSpan.FromTicks(k * tile);
        var id = Alert.MakeId(s.Kind, s.Scope, start);
        if (open is not null)
        {
            if (open.Id == id)
            {
                Extend(open, s, severity, explanation);
                MarkPending(st, open);
                return open;
            }
            Close(st, key, open);
        }
        return Open(st, key, NewAlert(s, id, start, severity, explanation, detectedAt));
    }

    /// <summary>Closes open alerts whose window ended more than the suppression gap before the watermark (tiled alerts: whose tile did).</summary>
    public void Expire(EngineState st, DateTimeOffset watermark)
    {
        List<string>? done = null;
        foreach (var (key, a) in st.Open)
        {
            var end = IsTiled(a.Kind) ? a.WindowStart + o.MaxAlertWindow : a.WindowEnd;
            if (end + o.SuppressGap < watermark) (done ??= []).Add(key);
        }
        if (done is null) return;
        foreach (var key in done) Close(st, key, st.Open[key]);
    }

    private static Alert Open(EngineState st, string key, Alert alert)
    {
        st.Open[key] = alert;
        st.Stats.AlertsOpened++;
        MarkPending(st, alert);
        return alert;
    }

    private Alert NewAlert(Signal s, string id, DateTimeOffset start, Severity severity, string explanation, DateTimeOffset detectedAt)
    {
        var alert = new Alert
        {
            Id = id,
            Kind = s.Kind,
            Severity = severity,
            Score = s.Score,
            WindowStart = start,
            WindowEnd = s.WindowEnd > start ? s.WindowEnd : start,
            DetectedAt = detectedAt,
            Scope = s.Scope,
            Baseline = s.Baseline,
            Observed = s.Observed,
            Evidence = new Evidence(),
            Explanation = explanation,
            Model = o.Model + (s.Detector is null ? "" : " (" + s.Detector + ")"),
        };
        Merge(alert.Evidence, s.Evidence);
        return alert;
    }

    /// <summary>Closes every open alert (end of a finite stream).</summary>
    public static void CloseAll(EngineState st)
    {
        foreach (var key in st.Open.Keys.ToList()) Close(st, key, st.Open[key]);
    }

    private static void Close(EngineState st, string key, Alert a)
    {
        st.Open.Remove(key);
        if (st.Pending.Contains(a.Id)) st.Closed[a.Id] = a;
    }

    private static void MarkPending(EngineState st, Alert a)
    {
        if (!st.Pending.Contains(a.Id)) st.Pending.Add(a.Id);
    }

    private static void Extend(Alert a, Signal s, Severity severity, string explanation)
    {
        if (s.WindowEnd > a.WindowEnd) a.WindowEnd = s.WindowEnd;
        if (severity > a.Severity) a.Severity = severity;
        if (s.Score > a.Score) a.Score = s.Score;
        if (s.Observed >= a.Observed)
        {
            a.Observed = s.Observed;
            a.Baseline = s.Baseline;
            a.Explanation = explanation;
        }
        var ev = new Evidence
        {
            PostIds = [.. a.Evidence.PostIds],
            TopTerms = [.. a.Evidence.TopTerms],
            Accounts = [.. a.Evidence.Accounts],
            Excerpts = [.. a.Evidence.Excerpts],
        };
        Merge(ev, s.Evidence);
        a.Evidence = ev;
    }

    private static void Merge(Evidence into, Evidence from)
    {
        Add(into.PostIds, from.PostIds, MaxPostIds);
        Add(into.TopTerms, from.TopTerms, MaxTerms);
        Add(into.Accounts, from.Accounts, MaxAccounts);
        Add(into.Excerpts, from.Excerpts, MaxExcerpts);
    }

    private static void Add(List<string> into, List<string> from, int max)
    {
        foreach (var x in from)
        {
            if (into.Count >= max) return;
            if (!into.Contains(x)) into.Add(x);
        }
    }

    /// <summary>A deep copy, so that callers on other threads never see the engine's own instance change.</summary>
    public static Alert Clone(Alert a) => new()
    {
        Id = a.Id,
        Kind = a.Kind,
        Severity = a.Severity,
        Score = a.Score,
        WindowStart = a.WindowStart,
        WindowEnd = a.WindowEnd,
        DetectedAt = a.DetectedAt,
        Scope = a.Scope,
        Baseline = a.Baseline,
        Observed = a.Observed,
        Evidence = new Evidence
        {
            PostIds = [.. a.Evidence.PostIds],
            TopTerms = [.. a.Evidence.TopTerms],
            Accounts = [.. a.Evidence.Accounts],
            Excerpts = [.. a.Evidence.Excerpts],
        },
        Explanation = a.Explanation,
        Model = a.Model,
        Status = a.Status,
        Audit = [.. a.Audit],
    };
}
