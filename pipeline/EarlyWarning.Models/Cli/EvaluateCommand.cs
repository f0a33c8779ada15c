using System.Globalization;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Serving;

namespace EarlyWarning.Models.Cli;

/// <summary><c>evaluate --model DIR --data PATH [--json]</c>: scores the model (without lexicons) on held-out labelled data.</summary>
public static class EvaluateCommand
{
    /// <summary>
    /// Evaluates on the dataset's test split: its official one (HateXplain, OLID, Amharic), else the fixed stratified
    /// test split (Davidson, MLMA, Sinhala, myHateSpeech); a generic CSV/JSONL file is used whole.
    /// Binary datasets (OLID: offensive vs not; Sinhala: hate vs not) are scored as flagged vs none.
    /// Returns 0, or 2 when the model or the data cannot be used.
    /// </summary>
    public static int Run(string modelDir, string dataPath, bool json, TextWriter output)
    {
        OnnxClassifier model;
        try { model = OnnxClassifier.Load(modelDir); }
        catch (Exception e) when (e is InvalidDataException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            output.WriteLine(json ? $"{{\"error\":{System.Text.Json.JsonSerializer.Serialize(e.Message)}}}" : "evaluate: " + e.Message);
            return 2;
        }
        using (model)
        {
            var data = DatasetLoader.Load(dataPath);
            var examples = HeldOut.SelectTest(data);
            if (examples.Count == 0)
            {
                var reason = data.Skipped.FirstOrDefault()?.Reason ?? "no labelled examples";
                output.WriteLine(json ? $"{{\"error\":{System.Text.Json.JsonSerializer.Serialize(reason)}}}" : "evaluate: " + reason);
                return 2;
            }
            var report = HeldOut.Evaluate(model, data, examples);
            if (json) output.WriteLine(report.ToJson());
            else WriteTable(output, data, report);
            return 0;
        }
    }

    private static void WriteTable(TextWriter o, DatasetLoadResult data, ClassificationReport r)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(ci, $"dataset {data.Name}: {r.Count} examples ({data.Skipped.Count} rows skipped)"));
        o.WriteLine(string.Create(ci, $"accuracy {r.Accuracy:0.0000}  macro-F1 {r.MacroF1:0.0000}  weighted-F1 {r.WeightedF1:0.0000}"));
        o.WriteLine("label        precision  recall  f1      support");
        foreach (var (l, m) in r.PerClass)
            o.WriteLine(string.Create(ci, $"{l,-12} {m.Precision,9:0.0000}  {m.Recall,6:0.0000}  {m.F1,6:0.0000}  {m.Support,7}"));
    }
}
