using System.Text.Json;
using System.Text.Json.Serialization;

namespace EarlyWarning.Models.Evaluation;

/// <summary>Precision, recall, F1 and support of one class.</summary>
public sealed record ClassMetrics(
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall,
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("support")] int Support);

/// <summary>Accuracy, macro-F1, weighted-F1 and per-class metrics; serialises to DESIGN's <c>evaluate --json</c> shape.</summary>
public sealed class ClassificationReport
{
    [JsonPropertyName("accuracy")] public double Accuracy { get; init; }
    [JsonPropertyName("macro_f1")] public double MacroF1 { get; init; }
    [JsonPropertyName("weighted_f1")] public double WeightedF1 { get; init; }
    [JsonPropertyName("per_class")] public required Dictionary<string, ClassMetrics> PerClass { get; init; }
    [JsonPropertyName("count")] public int Count { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Computes the report from gold and predicted class indices over <paramref name="labels"/>.
    /// Classes with no gold support and no predictions are left out of the macro average.</summary>
    public static ClassificationReport Compute(IReadOnlyList<int> gold, IReadOnlyList<int> predicted, IReadOnlyList<string> labels)
    {
        if (gold.Count != predicted.Count) throw new ArgumentException("gold and predicted differ in length", nameof(predicted));
        var c = labels.Count;
        var tp = new int[c];
        var fp = new int[c];
        var fn = new int[c];
        var correct = 0;
        for (var i = 0; i < gold.Count; i++)
        {
            var g = gold[i];
            var p = predicted[i];
            if (g == p) { correct++; tp[g]++; }
            else
            {
                if ((uint)p < (uint)c) fp[p]++;
                fn[g]++;
            }
        }
        var per = new Dictionary<string, ClassMetrics>();
        double macro = 0, weighted = 0;
        var macroCount = 0;
        for (var k = 0; k < c; k++)
        {
            var support = tp[k] + fn[k];
            var prec = tp[k] + fp[k] == 0 ? 0 : (double)tp[k] / (tp[k] + fp[k]);
            var rec = support == 0 ? 0 : (double)tp[k] / support;
            var f1 = prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec);
            per[labels[k]] = new ClassMetrics(Math.Round(prec, 4), Math.Round(rec, 4), Math.Round(f1, 4), support);
            if (support > 0 || tp[k] + fp[k] > 0) { macro += f1; macroCount++; }
            weighted += f1 * support;
        }
        return new ClassificationReport
        {
            Accuracy = Math.Round(gold.Count == 0 ? 0 : (double)correct / gold.Count, 4),
            MacroF1 = Math.Round(macroCount == 0 ? 0 : macro / macroCount, 4),
            WeightedF1 = Math.Round(gold.Count == 0 ? 0 : weighted / gold.Count, 4),
            PerClass = per,
            Count = gold.Count,
        };
    }
}
