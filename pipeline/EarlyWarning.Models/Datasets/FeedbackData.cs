using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;

namespace EarlyWarning.Models.Datasets;

/// <summary>
/// Analyst feedback as training data. The file format is JSON Lines, one Core <see cref="Feedback"/> record per line
/// plus the post's text: <c>{"post_id","label","text","actor","note","at"}</c> (snake_case). <c>train --data FILE.jsonl</c>
/// recognises it by its <c>post_id</c> and <c>actor</c> fields. When a post has several records the latest (by <c>at</c>,
/// then file order) wins; feedback without text cannot train and is reported as skipped.
/// </summary>
public static class FeedbackData
{
    /// <summary>Dataset name of loaded feedback (and of its rows in metrics).</summary>
    public const string DatasetName = "feedback";

    /// <summary>Writes feedback records with their post texts; returns how many were written (records whose text is unknown are left out and counted in <paramref name="missingText"/>).</summary>
    public static int WriteJsonl(IEnumerable<Feedback> feedback, Func<string, string?> textOf, TextWriter output, out int missingText)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        ArgumentNullException.ThrowIfNull(textOf);
        ArgumentNullException.ThrowIfNull(output);
        var written = 0;
        missingText = 0;
        foreach (var f in feedback)
        {
            var text = textOf(f.PostId);
            if (text is null) { missingText++; continue; }
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string?>
            {
                ["post_id"] = f.PostId, ["label"] = f.Label, ["text"] = text, ["actor"] = f.Actor, ["note"] = f.Note,
                ["at"] = f.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            }));
            written++;
        }
        return written;
    }

    /// <summary>True when the first record of a JSONL file looks like feedback (has <c>post_id</c> and <c>actor</c>).</summary>
    public static bool LooksLikeFeedback(string file)
    {
        try
        {
            var first = File.ReadLines(file, Encoding.UTF8).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
            if (first is null) return false;
            using var doc = JsonDocument.Parse(first);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("post_id", out _) && doc.RootElement.TryGetProperty("actor", out _);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) { return false; }
    }

    /// <summary>Loads a feedback file; bad lines are skipped with a reason, superseded records are counted as skipped too.</summary>
    public static DatasetLoadResult Load(string file)
    {
        var r = new DatasetLoadResult { Name = DatasetName, Licence = "analyst feedback (labels owned by the deploying organisation; post text from its sources)", IsFeedback = true };
        var latest = new Dictionary<string, (DateTimeOffset At, int Line, LabeledExample Example)>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            lineNo++;
            var where = $"{Path.GetFileName(file)}:{lineNo}";
            if (string.IsNullOrWhiteSpace(line)) continue; // blank separator lines carry no record
            try
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                if (e.ValueKind != JsonValueKind.Object) { r.Skipped.Add(new SkippedRow(where, "not_an_object")); continue; }
                var id = Get(e, "post_id");
                var label = Get(e, "label");
                var text = Get(e, "text");
                if (string.IsNullOrEmpty(id)) { r.Skipped.Add(new SkippedRow(where, "missing_field:post_id")); continue; }
                if (label is null) { r.Skipped.Add(new SkippedRow(where, "missing_field:label")); continue; }
                if (text is null) { r.Skipped.Add(new SkippedRow(where, "missing_field:text")); continue; }
                var mapped = Labels.All.FirstOrDefault(l => string.Equals(l, label.Trim(), StringComparison.OrdinalIgnoreCase));
                if (mapped is null) { r.Skipped.Add(new SkippedRow(where, "bad_label")); continue; }
                var at = DateTimeOffset.MinValue;
                if (Get(e, "at") is { } atText && !DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at))
                { r.Skipped.Add(new SkippedRow(where, "bad_field:at")); continue; }
                var example = new LabeledExample(text, mapped) { Id = id, OriginalLabel = label, Language = Get(e, "lang") };
                if (latest.TryGetValue(id, out var old))
                {
                    r.Skipped.Add(new SkippedRow(at >= old.At ? $"{Path.GetFileName(file)}:{old.Line}" : where, "superseded_feedback"));
                    if (at < old.At) continue;
                }
                latest[id] = (at, lineNo, example);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException) { r.Skipped.Add(new SkippedRow(where, "invalid_json")); }
        }
        foreach (var (_, _, ex) in latest.Values.OrderBy(v => v.Line)) r.Examples.Add(ex);
        return r;
    }

    private static string? Get(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
