using System.Text;
using System.Text.Json;

namespace EarlyWarning.Benchmarks.Text;

/// <summary>
/// A multilingual corpus built in memory from ../shared/data (Davidson, MLMA en/fr/ar, Sinhala, Burmese
/// myHateSpeech, Amharic), so only the text stage is measured. Nothing from it is written anywhere.
/// </summary>
public static class MultilingualCorpus
{
    public static string[] Load(int perSet)
    {
        var all = new List<string>();
        all.AddRange(Csv(Data("davidson-hate-offensive", "labeled_data.csv"), "tweet", perSet));
        all.AddRange(Csv(Data("mlma-hate-speech", "en_dataset.csv"), "tweet", perSet));
        all.AddRange(Csv(Data("mlma-hate-speech", "fr_dataset.csv"), "tweet", perSet));
        all.AddRange(Csv(Data("mlma-hate-speech", "ar_dataset.csv"), "tweet", perSet));
        all.AddRange(Csv(Data("sinhala-racism-tweets", "final-data-set.csv"), "text", perSet));
        all.AddRange(Csv(Data("amharic-hate-ranlp2023", "train.csv"), "text", perSet));
        foreach (var line in File.ReadLines(Data("myanmar-hate-myhatespeech", "myhatespeech_v1.0_shared.jsonl")).Take(perSet))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("text").GetString() is { Length: > 0 } s) all.Add(s);
        }
        return all.ToArray();
    }

    public static long Utf8Bytes(string[] texts) => texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));

    private static string Data(params string[] parts)
    {
        var env = Environment.GetEnvironmentVariable("EARLYWARNING_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.Combine([env, "data", .. parts]);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EarlyWarning.sln")))
                return Path.Combine([dir.FullName, "..", "shared", "data", .. parts]);
        // BenchmarkDotNet runs from a generated folder under bin/; fall back to the working directory.
        return Path.Combine([Directory.GetCurrentDirectory(), "..", "shared", "data", .. parts]);
    }

    private static List<string> Csv(string path, string column, int max)
    {
        var result = new List<string>();
        using var reader = new StreamReader(path);
        var header = ReadRecord(reader) ?? throw new InvalidDataException("empty " + path);
        var col = header.IndexOf(column);
        while (result.Count < max && ReadRecord(reader) is { } rec)
            if (col < rec.Count && rec[col].Length > 0) result.Add(rec[col]);
        return result;
    }

    private static List<string>? ReadRecord(StreamReader r)
    {
        if (r.Peek() < 0) return null;
        var fields = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        while (true)
        {
            var ch = r.Read();
            if (ch < 0) { fields.Add(sb.ToString()); return fields; }
            var c = (char)ch;
            if (quoted)
            {
                if (c == '"') { if (r.Peek() == '"') { r.Read(); sb.Append('"'); } else quoted = false; }
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else if (c == '\n') { fields.Add(sb.ToString().TrimEnd('\r')); return fields; }
            else sb.Append(c);
        }
    }
}
