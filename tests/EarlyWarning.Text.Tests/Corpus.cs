using System.Text.Json;

namespace EarlyWarning.Text.Tests;

/// <summary>Real sentences read from ../shared/data at test time (never committed; only properties are asserted).</summary>
internal static class Corpus
{
    /// <summary>
    /// Inputs that exercise every normalisation step and its corners (obfuscation, full-width, invisibles, homoglyphs,
    /// a lone surrogate and a control character, entities, repeats, a long mixed-script post), for tests that check a
    /// reuse of normalised text against the raw-text path.
    /// </summary>
    public static readonly string[] NormalizerEdgeCases =
    [
        "",
        "   ",
        "k i l l them all, th3 v3rm1n!!!",
        "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and zero\u200Bwidth\u00ADsoft",
        "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and zero\u200Bwidth\u00ADsoft #Tag #tag",
        "Cyrіllic hоmoglyphs in Latin wоrds",
        "lone surrogate \uD800 here\u0001control",
        "lone surrogate \uD800 here\u0001control https://example.org/a",
        "#hashtag @mention https://example.org/x?y=1 soooooo baaaad",
        string.Concat(Enumerable.Repeat("a very long post with many words and ႀကီး mixed scripts ", 120)),
    ];

    /// <summary>Up to <paramref name="max"/> texts of a dataset: davidson, mlma-en, mlma-fr, mlma-ar, sinhala, amharic, burmese.</summary>
    public static List<string> Texts(string name, int max = 200)
    {
        var result = new List<string>();
        switch (name)
        {
            case "davidson": Csv(EarlyWarning.Tests.TestPaths.Data("davidson-hate-offensive", "labeled_data.csv"), "tweet", max, result); break;
            case "mlma-en": Csv(EarlyWarning.Tests.TestPaths.Data("mlma-hate-speech", "en_dataset.csv"), "tweet", max, result); break;
            case "mlma-fr": Csv(EarlyWarning.Tests.TestPaths.Data("mlma-hate-speech", "fr_dataset.csv"), "tweet", max, result); break;
            case "mlma-ar": Csv(EarlyWarning.Tests.TestPaths.Data("mlma-hate-speech", "ar_dataset.csv"), "tweet", max, result); break;
            case "sinhala": Csv(EarlyWarning.Tests.TestPaths.Data("sinhala-racism-tweets", "final-data-set.csv"), "text", max, result); break;
            case "amharic": Csv(EarlyWarning.Tests.TestPaths.Data("amharic-hate-ranlp2023", "train.csv"), "text", max, result); break;
            case "burmese":
                foreach (var line in File.ReadLines(EarlyWarning.Tests.TestPaths.Data("myanmar-hate-myhatespeech", "myhatespeech_v1.0_shared.jsonl")))
                {
                    if (result.Count >= max) break;
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.TryGetProperty("text", out var t) && t.GetString() is { Length: > 0 } s) result.Add(s);
                }
                break;
            default: throw new ArgumentException(name, nameof(name));
        }
        return result;
    }

    private static void Csv(string path, string column, int max, List<string> result)
    {
        using var reader = new StreamReader(path);
        var header = ReadRecord(reader) ?? throw new InvalidDataException("empty " + path);
        var col = header.IndexOf(column);
        if (col < 0) throw new InvalidDataException($"{column} not in {path}");
        while (result.Count < max && ReadRecord(reader) is { } rec)
            if (col < rec.Count && rec[col].Length > 0) result.Add(rec[col]);
    }

    // Minimal RFC 4180 reader (quoted fields may hold commas, quotes and newlines).
    private static List<string>? ReadRecord(StreamReader r)
    {
        if (r.Peek() < 0) return null;
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        var quoted = false;
        while (true)
        {
            var ch = r.Read();
            if (ch < 0) { fields.Add(sb.ToString()); return fields; }
            var c = (char)ch;
            if (quoted)
            {
                if (c == '"')
                {
                    if (r.Peek() == '"') { r.Read(); sb.Append('"'); }
                    else quoted = false;
                }
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else if (c == '\n') { fields.Add(sb.ToString().TrimEnd('\r')); return fields; }
            else sb.Append(c);
        }
    }

    /// <summary>A multilingual mix of all the datasets above.</summary>
    public static List<string> Multilingual(int perSet = 100)
    {
        var all = new List<string>();
        foreach (var n in new[] { "davidson", "mlma-en", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" })
            all.AddRange(Texts(n, perSet));
        return all;
    }
}
