using System.Text.Encodings.Web;
using System.Text.Json;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;

namespace EarlyWarning.Models.Cli;

/// <summary><c>classify [--model DIR] [--script-model DIR[,DIR]] [--json]</c>: one JSON object per input line, for every line.</summary>
public static class ClassifyCommand
{
    /// <summary>Lines longer than this are classified on their first <c>MaxChars</c> characters (noted in the output).</summary>
    public const int MaxChars = 64 * 1024;
    private const int Batch = 64;

    /// <summary>
    /// Reads one text per line and writes one object per line:
    /// <c>{"label","scores":{..},"flags":{"incitement","dehumanisation"},"target","explanation":[..],"terms":[..],"model"}</c>,
    /// plus <c>"note"</c> for empty, truncated or undecodable lines. The output is JSON with or without <paramref name="json"/>
    /// (DESIGN's contract); the flag is accepted for symmetry with <c>evaluate</c>. Returns 0, or 2 when the model cannot be loaded.
    /// </summary>
    public static int Run(string? modelDir, bool json, TextReader input, TextWriter output) => Run(modelDir, json, input, output, []);

    /// <summary><see cref="Run(string?, bool, TextReader, TextWriter)"/> with script models (<c>--script-model DIR[,DIR]</c>, see <see cref="PostClassifier.AttachScriptModel"/>).</summary>
    public static int Run(string? modelDir, bool json, TextReader input, TextWriter output, IReadOnlyList<string> scriptModelDirs)
    {
        ArgumentNullException.ThrowIfNull(scriptModelDirs);
        PostClassifier classifier;
        try
        {
            classifier = PostClassifier.Load(modelDir ?? ModelPaths.DefaultModelDir, ModelPaths.DefaultLexiconDir);
            try { foreach (var dir in scriptModelDirs) classifier.LoadScriptModel(dir); }
            catch { classifier.Dispose(); throw; }
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            output.WriteLine($"{{\"error\":{JsonSerializer.Serialize(e.Message)}}}");
            return 2;
        }
        _ = json;
        using (classifier)
        {
            var texts = new List<string>(Batch);
            var notes = new List<string?>(Batch);
            string? line;
            while ((line = input.ReadLine()) is not null)
            {
                string? note = null;
                if (line.Length > MaxChars) { line = line[..MaxChars]; note = "truncated"; }
                if (string.IsNullOrWhiteSpace(line)) note = "empty_text";
                else if (line.Contains('\uFFFD', StringComparison.Ordinal)) note = "undecodable_bytes_replaced";
                else if (!line.Any(char.IsLetter)) note ??= "no_letters";
                texts.Add(line);
                notes.Add(note);
                if (texts.Count == Batch) Flush(classifier, texts, notes, output);
            }
            Flush(classifier, texts, notes, output);
            return 0;
        }
    }

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Flush(PostClassifier classifier, List<string> texts, List<string?> notes, TextWriter output)
    {
        if (texts.Count == 0) return;
        var decisions = classifier.ClassifyTexts(texts);
        using var ms = new MemoryStream();
        for (var i = 0; i < decisions.Length; i++)
        {
            ms.SetLength(0);
            using (var w = new Utf8JsonWriter(ms, WriterOptions)) Write(w, decisions[i], notes[i]);
            output.WriteLine(System.Text.Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length));
        }
        output.Flush();
        texts.Clear();
        notes.Clear();
    }

    /// <summary>Writes one decision in DESIGN's classify format.</summary>
    public static void Write(Utf8JsonWriter w, Decision d, string? note)
    {
        w.WriteStartObject();
        w.WriteString("label", d.Label);
        w.WriteStartObject("scores");
        for (var i = 0; i < Labels.All.Length; i++) w.WriteNumber(Labels.All[i], Math.Round(d.Scores[i], 4));
        w.WriteEndObject();
        w.WriteStartObject("flags");
        w.WriteNumber("incitement", Math.Round(d.Incitement, 4));
        w.WriteNumber("dehumanisation", Math.Round(d.Dehumanisation, 4));
        w.WriteEndObject();
        if (d.Target is null) w.WriteNull("target"); else w.WriteString("target", d.Target);
        w.WriteStartArray("explanation");
        foreach (var e in d.Explanation) w.WriteStringValue(e);
        w.WriteEndArray();
        w.WriteStartArray("terms");
        foreach (var t in d.Terms) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteString("model", d.Model);
        if (note is not null) w.WriteString("note", note);
        w.WriteEndObject();
    }
}
