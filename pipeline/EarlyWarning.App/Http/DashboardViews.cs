using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.App.Http;

/// <summary>The JSON shapes of the API (serialised snake_case); mapping from Core types lives here only.</summary>
internal static class DashboardViews
{
    public sealed record Window(DateTimeOffset Start, DateTimeOffset End);

    public sealed record ScopeView(string? Country, string? Region, string? TargetGroup, string? Language, string? Term);

    public sealed record EvidenceView(IReadOnlyList<string> PostIds, IReadOnlyList<string> TopTerms, IReadOnlyList<string> Accounts, IReadOnlyList<string> Excerpts);

    public sealed record AuditView(DateTimeOffset At, string Actor, string Action, string? Note);

    /// <summary>An alert in the feed: everything but the evidence and audit details (those come with one alert).</summary>
    public sealed record AlertSummary(string Id, string Kind, string Severity, double Score, Window Window, DateTimeOffset DetectedAt,
        ScopeView Scope, double Baseline, double Observed, string Explanation, string? Model, string Status,
        int EvidencePosts, IReadOnlyList<string> TopTerms, int AuditEntries);

    public sealed record AlertDetail(string Id, string Kind, string Severity, double Score, Window Window, DateTimeOffset DetectedAt,
        ScopeView Scope, double Baseline, double Observed, string Explanation, string? Model, string Status,
        EvidenceView Evidence, IReadOnlyList<AuditView> Audit);

    public sealed record PostView(string Id, DateTimeOffset CreatedAt, string Author, string Text, string? Lang, string? Country, string? Region,
        string? Label, IReadOnlyDictionary<string, float>? Scores, string? Target, float Incitement, float Dehumanisation,
        IReadOnlyList<string> Explanation, string? Model);

    /// <summary>
    /// A dead letter with its original bytes (base64 in JSON), decrypted when the pipeline sealed them; <c>Bytes</c> is
    /// null with <c>Unreadable</c> saying why when they do not open. <c>Size</c> is the original length.
    /// </summary>
    public sealed record DeadLetterView(long Id, string Source, long Offset, string Reason, int Size, DateTimeOffset ReceivedAt,
        bool Encrypted, byte[]? Bytes, bool Truncated, string? Unreadable);

    public sealed record FeedbackView(string PostId, string Label, string Actor, string? Note, DateTimeOffset At);

    /// <summary>One series of the timeline; points are [bucket start as Unix seconds, count] pairs, oldest first.</summary>
    public sealed record SeriesView(string Country, string Region, string TargetGroup, string Label, long Total, IReadOnlyList<long[]> Points);

    public sealed record AlertMarker(string Id, string Kind, string Severity, DateTimeOffset Start, DateTimeOffset End, string? Country, string? Region, string? TargetGroup, string Status);

    /// <summary>The timeline: the total series (dimensions "*"), one series per group value, alert markers, and the known regions.</summary>
    public sealed record TimelineView(int BucketSeconds, string GroupBy, DateTimeOffset? From, DateTimeOffset? To, bool Truncated,
        IReadOnlyList<SeriesView> Series, IReadOnlyList<AlertMarker> Alerts, IReadOnlyList<object> Regions);

    public static ScopeView ToView(Scope s) => new(s.Country, s.Region, s.TargetGroup, s.Language, s.Term);

    public static AlertSummary Summary(Alert a) => new(a.Id, a.Kind, Alert.SeverityName(a.Severity), a.Score,
        new Window(a.WindowStart, a.WindowEnd), a.DetectedAt, ToView(a.Scope), a.Baseline, a.Observed, a.Explanation,
        a.Model, a.Status, a.Evidence.PostIds.Count, a.Evidence.TopTerms.Take(5).ToList(), a.Audit.Count);

    public static AlertDetail Detail(Alert a) => new(a.Id, a.Kind, Alert.SeverityName(a.Severity), a.Score,
        new Window(a.WindowStart, a.WindowEnd), a.DetectedAt, ToView(a.Scope), a.Baseline, a.Observed, a.Explanation,
        a.Model, a.Status,
        new EvidenceView(a.Evidence.PostIds, a.Evidence.TopTerms, a.Evidence.Accounts, a.Evidence.Excerpts),
        a.Audit.Select(e => new AuditView(e.At, e.Actor, e.Action, e.Note)).ToList());

    public static AlertMarker Marker(Alert a) => new(a.Id, a.Kind, Alert.SeverityName(a.Severity), a.WindowStart, a.WindowEnd,
        a.Scope.Country, a.Scope.Region, a.Scope.TargetGroup, a.Status);

    public static PostView ToView(StoredPost p)
    {
        Dictionary<string, float>? scores = null;
        if (p.Scores is { Length: > 0 } s)
        {
            scores = [];
            for (var i = 0; i < s.Length && i < Labels.All.Length; i++) scores[Labels.All[i]] = s[i];
        }
        return new PostView(p.Id, p.CreatedAt, p.Author, p.Text, p.Lang, p.Country, p.Region, p.Label, scores, p.Target,
            p.Incitement, p.Dehumanisation, p.Explanation, p.Model);
    }

    public static DeadLetterView ToView(StoredDeadLetter d, Safeguards.DeadLetterCipher? cipher, int maxBytes)
    {
        var stored = d.Bytes ?? [];
        var sealedBytes = Safeguards.DeadLetterCipher.IsSealed(stored);
        byte[]? plain;
        string? unreadable = null;
        if (!sealedBytes) plain = stored;
        else if (cipher is null)
        {
            plain = null;
            unreadable = "encrypted, and this server has no key to open it";
        }
        else if (!cipher.TryOpen(stored, out var opened, out unreadable)) plain = null;
        else plain = opened;
        var size = plain?.Length ?? Math.Max(0, stored.Length - Safeguards.DeadLetterCipher.Overhead);
        var truncated = plain is not null && plain.Length > maxBytes;
        return new DeadLetterView(d.Id, d.Source, d.Offset, d.Reason, size, d.ReceivedAt, sealedBytes,
            truncated ? plain![..maxBytes] : plain, truncated, unreadable);
    }

    public static FeedbackView ToView(Feedback f) => new(f.PostId, f.Label, f.Actor, f.Note, f.At);

    /// <summary>Groups points into series, summing duplicates, oldest bucket first.</summary>
    public static List<SeriesView> Series(IEnumerable<SeriesPoint> points)
    {
        var groups = new Dictionary<(string, string, string, string), SortedDictionary<long, long>>();
        foreach (var p in points)
        {
            var key = (p.Country ?? "", p.Region ?? "", p.TargetGroup ?? "", p.Label ?? "");
            if (!groups.TryGetValue(key, out var buckets)) groups[key] = buckets = [];
            var t = p.BucketStart.ToUnixTimeSeconds();
            buckets[t] = buckets.GetValueOrDefault(t) + p.Count;
        }
        return groups
            .Select(g => new SeriesView(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4, g.Value.Values.Sum(),
                g.Value.Select(kv => new[] { kv.Key, kv.Value }).ToList()))
            .OrderBy(s => s.Country, StringComparer.Ordinal).ThenBy(s => s.Region, StringComparer.Ordinal)
            .ThenByDescending(s => s.Total).ThenBy(s => s.TargetGroup, StringComparer.Ordinal).ThenBy(s => s.Label, StringComparer.Ordinal)
            .ToList();
    }
}
