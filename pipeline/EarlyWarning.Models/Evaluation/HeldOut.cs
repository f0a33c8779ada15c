using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Models.Evaluation;

/// <summary>
/// The held-out rows a dataset is scored on and how they are scored, shared by <c>evaluate</c> and the external
/// baselines (fastText) so that every model in a table is scored on the same rows by the same rules.
/// </summary>
public static class HeldOut
{
    /// <summary>The examples <c>evaluate</c> scores.</summary>
    public static IReadOnlyList<LabeledExample> SelectTest(DatasetLoadResult data)
    {
        if (File.Exists(data.Name) || data.Licence == "as stated by the supplier") return data.Examples;
        return TrainingPipeline.AssignSplits(data).Where(s => s.Split == StratifiedSplit.Test).Select(s => s.Example).ToList();
    }

    /// <summary>Scores <paramref name="examples"/>; binary datasets collapse predictions onto their two labels.</summary>
    public static ClassificationReport Evaluate(OnnxClassifier model, DatasetLoadResult data, IReadOnlyList<LabeledExample> examples)
    {
        var c = model.Classes;
        var probs = new float[examples.Count * c];
        model.Predict(examples.Select(e => e.Text).ToList(), probs);
        var pred = new int[examples.Count];
        for (var i = 0; i < pred.Length; i++)
            pred[i] = Array.IndexOf(Labels.All, model.Manifest.Labels[model.Decide(probs.AsSpan(i * c, c))]);
        return Score(data.Name, examples.Select(e => e.LabelIndex).ToArray(), pred);
    }

    /// <summary>
    /// Scores predicted against gold label indices (into <see cref="Labels.All"/>) as <c>evaluate</c> does for the
    /// dataset named <paramref name="datasetName"/>: binary datasets collapse both onto none vs flagged. Also scores
    /// external baselines (fastText) on the same rows.
    /// </summary>
    public static ClassificationReport Score(string datasetName, IReadOnlyList<int> gold, IReadOnlyList<int> pred)
    {
        var positive = BinaryPositive(datasetName);
        if (positive is null) return ClassificationReport.Compute(gold, pred, Labels.All);
        string[] labels = [Labels.None, positive];
        return ClassificationReport.Compute(gold.Select(g => g == 0 ? 0 : 1).ToArray(), pred.Select(p => p == 0 ? 0 : 1).ToArray(), labels);
    }

    private static string? BinaryPositive(string datasetName) => datasetName switch
    {
        "olid" => Labels.Offensive,
        "sinhala-racism-tweets" => Labels.Hate,
        _ => null,
    };
}
