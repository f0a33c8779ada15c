using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Models.Datasets;

/// <summary>
/// Loads the labelled datasets in <c>../shared/data</c> (recognised by folder name) and generic CSV/JSONL files
/// with <c>text,label</c> columns, mapping each label scheme onto <see cref="Labels.All"/> (table in models/README.md).
/// </summary>
public static class DatasetLoader
{
    /// <summary>Loads a dataset folder or a labelled CSV/JSONL file. Never throws on bad rows: they are in <see cref="DatasetLoadResult.Skipped"/>.</summary>
    public static DatasetLoadResult Load(string path)
    {
        if (Directory.Exists(path))
        {
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
            if (File.Exists(Path.Combine(path, "labeled_data.csv"))) return LoadDavidson(Path.Combine(path, "labeled_data.csv"));
            if (File.Exists(Path.Combine(path, "en_dataset.csv"))) return LoadMlma(path);
            if (File.Exists(Path.Combine(path, "final-data-set.csv"))) return LoadSinhala(Path.Combine(path, "final-data-set.csv"));
            if (File.Exists(Path.Combine(path, "olid_test.csv"))) return LoadOlid(path);
            if (File.Exists(Path.Combine(path, "hatexplain.csv"))) return LoadHateXplain(Path.Combine(path, "hatexplain.csv"));
            if (File.Exists(Path.Combine(path, "myhatespeech_v1.0_shared.jsonl"))) return LoadMyHateSpeech(Path.Combine(path, "myhatespeech_v1.0_shared.jsonl"));
            if (name.Contains("amharic", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(path, "test.csv"))) return LoadAmharic(path);
            var r = new DatasetLoadResult { Name = name, Licence = "unknown" };
            r.Skipped.Add(new SkippedRow(path, "unrecognised_dataset_folder"));
            return r;
        }
        if (!File.Exists(path))
        {
            var r = new DatasetLoadResult { Name = Path.GetFileName(path), Licence = "unknown" };
            r.Skipped.Add(new SkippedRow(path, "not_found"));
            return r;
        }
        var jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        if (jsonl && FeedbackData.LooksLikeFeedback(path)) return FeedbackData.Load(path);
        return jsonl
            ? LoadGenericJsonl(path)
            : LoadGenericCsv(path);
    }

    /// <summary>Maps a generic label (none/offensive/hate, hateful/non-hateful and a few synonyms) or returns null.</summary>
    public static string? MapGenericLabel(string raw) => raw.Trim().ToLowerInvariant() switch
    {
        "none" or "non-hateful" or "nonhateful" or "not_hateful" or "normal" or "neither" or "not" or "0" => Labels.None,
        "offensive" or "off" or "abusive" or "1" => Labels.Offensive,
        "hate" or "hateful" or "hatespeech" or "hate_speech" or "2" => Labels.Hate,
        _ => null,
    };

    // ---- Davidson: class 0 hate, 1 offensive, 2 neither ----
    private static DatasetLoadResult LoadDavidson(string file)
    {
        var r = new DatasetLoadResult { Name = "davidson-hate-offensive", Licence = "MIT", Redistributable = true };
        foreach (var (rec, where) in ReadCsv(file, ',', r))
        {
            var text = rec.Get("tweet");
            var cls = rec.Get("class");
            string? label = cls switch { "0" => Labels.Hate, "1" => Labels.Offensive, "2" => Labels.None, _ => null };
            if (text is null || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
            r.Examples.Add(new LabeledExample(text, label) { Language = "en", Id = rec.Get("") ?? rec.Get(0), OriginalLabel = cls, Soft = CoderShares(rec) });
        }
        return r;
    }

    private static float[]? CoderShares(Record rec)
    {
        var ci = CultureInfo.InvariantCulture;
        if (!int.TryParse(rec.Get("neither"), NumberStyles.Integer, ci, out var n) ||
            !int.TryParse(rec.Get("offensive_language"), NumberStyles.Integer, ci, out var o) ||
            !int.TryParse(rec.Get("hate_speech"), NumberStyles.Integer, ci, out var h) || n + o + h <= 0) return null;
        var t = (float)(n + o + h);
        return [n / t, o / t, h / t];
    }

    // ---- MLMA: sentiment multi-label; "normal" alone -> none, contains "hateful" -> hate, else offensive ----
    private static readonly Dictionary<string, string> MlmaGroups = new(StringComparer.Ordinal)
    {
        ["women"] = "women", ["gay"] = "lgbtq", ["muslims"] = "muslims", ["jews"] = "jews",
        ["african_descent"] = "black_people", ["special_needs"] = "disabled_people", ["immigrants"] = "immigrants",
        ["refugees"] = "immigrants", ["christian"] = "christians", ["indian/hindu"] = "hindus",
    };

    private static DatasetLoadResult LoadMlma(string dir)
    {
        var r = new DatasetLoadResult { Name = "mlma-hate-speech", Licence = "MIT", Redistributable = true };
        foreach (var lang in new[] { "en", "fr", "ar" })
        {
            var file = Path.Combine(dir, lang + "_dataset.csv");
            if (!File.Exists(file)) { r.Skipped.Add(new SkippedRow(file, "not_found")); continue; }
            foreach (var (rec, where) in ReadCsv(file, ',', r))
            {
                var text = rec.Get("tweet");
                var sentiment = rec.Get("sentiment");
                if (string.IsNullOrWhiteSpace(text) || string.IsNullOrWhiteSpace(sentiment)) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
                var parts = sentiment.Split('_', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var label = parts.Contains("hateful") ? Labels.Hate
                    : parts.Length == 1 && parts[0] == "normal" ? Labels.None
                    : Labels.Offensive;
                var group = rec.Get("group") ?? "";
                MlmaGroups.TryGetValue(group, out var target);
                r.Examples.Add(new LabeledExample(text, label)
                {
                    Language = lang, Target = label == Labels.None ? null : target, Id = lang + ":" + rec.Get("HITId"),
                    OriginalLabel = sentiment,
                });
            }
        }
        return r;
    }

    // ---- Sinhala: Racist -> hate, Sexism -> hate (women), Neutral -> none ----
    private static DatasetLoadResult LoadSinhala(string file)
    {
        var r = new DatasetLoadResult { Name = "sinhala-racism-tweets", Licence = "MIT", Redistributable = true };
        foreach (var (rec, where) in ReadCsv(file, ',', r))
        {
            var text = rec.Get("text");
            var cls = rec.Get("class");
            (string? label, string? target) = cls switch
            {
                "Racist" => (Labels.Hate, null),
                "Sexism" => (Labels.Hate, "women"),
                "Neutral" => (Labels.None, null),
                _ => ((string?)null, (string?)null),
            };
            if (string.IsNullOrWhiteSpace(text) || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
            r.Examples.Add(new LabeledExample(StripWrappingQuotes(text), label) { Language = "si", Target = target, Id = rec.Get("id"), OriginalLabel = cls });
        }
        return r;
    }

    // ---- OLID: subtask_a NOT -> none, OFF -> offensive; binary evaluation ----
    private static DatasetLoadResult LoadOlid(string dir)
    {
        var r = new DatasetLoadResult { Name = "olid", Licence = "none stated (evaluation only)", Binary = true };
        foreach (var (file, split) in new[] { ("olid_train.csv", "train"), ("olid_test.csv", "test") })
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path)) { r.Skipped.Add(new SkippedRow(path, "not_found")); continue; }
            foreach (var (rec, where) in ReadCsv(path, ',', r))
            {
                var text = rec.Get("tweet");
                var a = rec.Get("subtask_a");
                var label = a switch { "NOT" => Labels.None, "OFF" => Labels.Offensive, _ => null };
                if (string.IsNullOrWhiteSpace(text) || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
                r.Examples.Add(new LabeledExample(text, label) { Language = "en", Id = rec.Get("id"), Split = split, OriginalLabel = a });
            }
        }
        return r;
    }

    // ---- HateXplain: hatespeech -> hate, offensive -> offensive, normal -> none; undecided skipped ----
    private static DatasetLoadResult LoadHateXplain(string file)
    {
        var r = new DatasetLoadResult { Name = "hatexplain", Licence = "MIT (dataset) / GPL-3.0 (derived table; evaluation only)" };
        foreach (var (rec, where) in ReadCsv(file, ',', r))
        {
            var text = rec.Get("text");
            var lab = rec.Get("label");
            var label = lab switch { "hatespeech" => Labels.Hate, "offensive" => Labels.Offensive, "normal" => Labels.None, _ => null };
            if (lab == "undecided") { r.Skipped.Add(new SkippedRow(where, "undecided_label")); continue; }
            if (string.IsNullOrWhiteSpace(text) || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
            r.Examples.Add(new LabeledExample(text, label) { Language = "en", Id = rec.Get("post_id"), Split = rec.Get("split"), OriginalLabel = lab });
        }
        return r;
    }

    // ---- Amharic RANLP 2023: hate/offensive/normal ----
    private static DatasetLoadResult LoadAmharic(string dir)
    {
        var r = new DatasetLoadResult { Name = "amharic-hate-ranlp2023", Licence = "none stated (evaluation only)" };
        foreach (var (file, split) in new[] { ("train.csv", "train"), ("dev.csv", "val"), ("test.csv", "test") })
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path)) { r.Skipped.Add(new SkippedRow(path, "not_found")); continue; }
            foreach (var (rec, where) in ReadCsv(path, ',', r))
            {
                var text = rec.Get("text");
                var lab = rec.Get("label");
                var label = lab switch { "hate" => Labels.Hate, "offensive" => Labels.Offensive, "normal" => Labels.None, _ => null };
                if (string.IsNullOrWhiteSpace(text) || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_row")); continue; }
                r.Examples.Add(new LabeledExample(text, label) { Language = "am", Id = rec.Get("tweet_id"), Split = split, OriginalLabel = lab });
            }
        }
        return r;
    }

    // ---- myHateSpeech (Burmese): no -> none; ab/bo/po/ed -> offensive; re/ra/se -> hate; le -> hate + incitement ----
    private static DatasetLoadResult LoadMyHateSpeech(string file)
    {
        var r = new DatasetLoadResult { Name = "myanmar-hate-myhatespeech", Licence = "CC BY-NC-SA 4.0 (separate model only)" };
        var lineNo = 0;
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            lineNo++;
            var where = $"{Path.GetFileName(file)}:{lineNo}";
            if (string.IsNullOrWhiteSpace(line)) { r.Skipped.Add(new SkippedRow(where, "empty_line")); continue; }
            try
            {
                using var doc = JsonDocument.Parse(line);
                var text = doc.RootElement.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                var lab = doc.RootElement.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()?.Trim('\u200c', ' ') : null;
                (string? label, string? target, bool incite) = lab switch
                {
                    "no" => (Labels.None, null, false),
                    "ab" or "bo" or "po" or "ed" => (Labels.Offensive, null, false),
                    "re" or "ra" => (Labels.Hate, null, false),
                    "se" => (Labels.Hate, "women", false),
                    "le" => (Labels.Hate, null, true),
                    _ => ((string?)null, (string?)null, false),
                };
                if (string.IsNullOrWhiteSpace(text) || label is null) { r.Skipped.Add(new SkippedRow(where, "bad_label:" + lab)); continue; }
                r.Examples.Add(new LabeledExample(text, label) { Language = "my", Target = target, Incitement = incite, Id = lineNo.ToString(CultureInfo.InvariantCulture), OriginalLabel = lab });
            }
            // Lone-surrogate escapes ("\ud800") parse as JSON but cannot become strings: the reader throws InvalidOperationException.
            catch (Exception ex) when (ex is JsonException or InvalidOperationException) { r.Skipped.Add(new SkippedRow(where, "invalid_json")); }
        }
        return r;
    }

    // ---- generic CSV / JSONL with text,label (+ optional lang, target) ----
    private static DatasetLoadResult LoadGenericCsv(string file)
    {
        var r = new DatasetLoadResult { Name = Path.GetFileNameWithoutExtension(file), Licence = "as stated by the supplier" };
        foreach (var (rec, where) in ReadCsv(file, file.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', r))
        {
            if (!rec.Has("text") || !rec.Has("label")) { r.Skipped.Add(new SkippedRow(where, "missing_field:text_or_label")); return r; }
            AddGeneric(r, where, rec.Get("text"), rec.Get("label"), rec.Get("lang"), rec.Get("target"));
        }
        return r;
    }

    private static DatasetLoadResult LoadGenericJsonl(string file)
    {
        var r = new DatasetLoadResult { Name = Path.GetFileNameWithoutExtension(file), Licence = "as stated by the supplier" };
        var lineNo = 0;
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            lineNo++;
            var where = $"{Path.GetFileName(file)}:{lineNo}";
            if (string.IsNullOrWhiteSpace(line)) continue; // blank separator lines carry no record
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) { r.Skipped.Add(new SkippedRow(where, "not_an_object")); continue; }
                AddGeneric(r, where, Str(doc.RootElement, "text"), Str(doc.RootElement, "label"), Str(doc.RootElement, "lang"), Str(doc.RootElement, "target"));
            }
            // Lone-surrogate escapes ("\ud800") parse as JSON but cannot become strings: the reader throws InvalidOperationException.
            catch (Exception ex) when (ex is JsonException or InvalidOperationException) { r.Skipped.Add(new SkippedRow(where, "invalid_json")); }
        }
        return r;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

    private static void AddGeneric(DatasetLoadResult r, string where, string? text, string? label, string? lang, string? target)
    {
        if (text is null) { r.Skipped.Add(new SkippedRow(where, "missing_field:text")); return; }
        if (label is null) { r.Skipped.Add(new SkippedRow(where, "missing_field:label")); return; }
        var mapped = MapGenericLabel(label);
        if (mapped is null) { r.Skipped.Add(new SkippedRow(where, "bad_label")); return; }
        r.Examples.Add(new LabeledExample(text, mapped)
        {
            Language = string.IsNullOrWhiteSpace(lang) ? null : lang,
            Target = string.IsNullOrWhiteSpace(target) ? null : target,
            OriginalLabel = label,
        });
    }

    private static string StripWrappingQuotes(string s) =>
        s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Trim('"') : s;

    private static IEnumerable<(Record Rec, string Where)> ReadCsv(string file, char sep, DatasetLoadResult r)
    {
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var csv = new CsvReader(reader, sep);
        var header = csv.ReadRecord();
        if (header is null) { r.Skipped.Add(new SkippedRow(file, "empty_file")); yield break; }
        var map = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++) map.TryAdd(header[i].Trim(), i);
        List<string>? rec;
        while ((rec = csv.ReadRecord()) is not null)
        {
            var where = $"{Path.GetFileName(file)}:{csv.RecordLine}";
            if (rec.Count == 1 && rec[0].Length == 0) continue; // blank line
            if (csv.LastRecordMalformed) { r.Skipped.Add(new SkippedRow(where, "malformed_quotes")); continue; }
            if (rec.Count != header.Count) { r.Skipped.Add(new SkippedRow(where, $"field_count:{rec.Count}/{header.Count}")); continue; }
            yield return (new Record(map, rec), where);
        }
    }

    private readonly struct Record(Dictionary<string, int> map, List<string> fields)
    {
        public bool Has(string name) => map.ContainsKey(name);
        public string? Get(string name) => map.TryGetValue(name, out var i) && i < fields.Count ? fields[i] : null;
        public string? Get(int i) => i < fields.Count ? fields[i] : null;
    }
}
