using System.Globalization;
using System.Text;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Models.Evaluation;

/// <summary>Renders <c>model-card.md</c> from the manifest and the measured metrics.</summary>
public static class ModelCard
{
    public static string Render(ModelManifest m, IReadOnlyList<DatasetLoadResult> datasets, IReadOnlyList<SplitExample> all, IReadOnlyDictionary<string, object> metrics)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"# Model card: {m.Id}");
        sb.AppendLine();
        var f = m.Featurizer;
        var ngrams = string.Create(ci, $"hashed word ({f.WordNgramMin}-{f.WordNgramMax}) and character ({f.CharNgramMin}-{f.CharNgramMax}) n-grams in 2^{System.Numerics.BitOperations.Log2((uint)Math.Max(1, f.Dimension))} buckets (featuriser `{f.Algorithm}`)");
        if (m.Kind == TrainerOptions.EmbeddingBagKind)
        {
            sb.AppendLine(ci, $"fastText-style embedding bag over {ngrams}: one embedding per hashed n-gram, weighted sum, linear layer, softmax;");
            sb.AppendLine("trained by this project's own SGD trainer (linearly decaying learning rate) and written to ONNX by its own writer (Gather → MatMul with the values → MatMul → Add → Softmax, opset 13).");
        }
        else
        {
            sb.AppendLine(ci, $"Multinomial logistic regression over {ngrams}, trained by this project's own");
            sb.AppendLine("AdaGrad trainer and written to ONNX by its own writer (Gather → MatMul with the values → Add → Softmax, opset 13).");
        }
        var biases = string.Join(", ", m.ClassBias.Select(kv => kv.Key + " " + kv.Value.ToString("0.00", ci)));
        sb.AppendLine(ci, $"Labels: {string.Join(", ", m.Labels)}. Decision rule: `{m.DecisionRule}` with class biases {biases} chosen on the validation split only.");
        sb.AppendLine("Flags (incitement, dehumanisation) and targets come from the lexicons in `models/lexicons/`, not from this model.");
        sb.AppendLine();
        sb.AppendLine("## Training data and licences");
        sb.AppendLine();
        sb.AppendLine("| dataset | licence | train | validation | test | skipped rows |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var d in datasets)
            sb.AppendLine(ci, $"| {d.Name} | {d.Licence} | {all.Count(s => s.Dataset == d.Name && s.Split == StratifiedSplit.Train)} | {all.Count(s => s.Dataset == d.Name && s.Split == StratifiedSplit.Validation)} | {all.Count(s => s.Dataset == d.Name && s.Split == StratifiedSplit.Test)} | {d.Skipped.Count} |");
        sb.AppendLine();
        sb.AppendLine(ci, $"Split: datasets without their own split use a fixed stratified split (seed {StratifiedSplit.DefaultSeed}, 70/10/20 by a seeded hash of the row id within each class; see models/README.md).");
        sb.AppendLine();
        sb.AppendLine("## Test metrics (held-out test split, model only)");
        sb.AppendLine();
        if (metrics.TryGetValue("test_per_dataset", out var pd) && pd is Dictionary<string, ClassificationReport> perDataset)
        {
            sb.AppendLine("| dataset | n | accuracy | macro-F1 | weighted-F1 | none P/R/F1 | offensive P/R/F1 | hate P/R/F1 |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var (name, r) in perDataset) sb.AppendLine(Row(name, r));
        }
        sb.AppendLine();
        sb.AppendLine("### Per language");
        sb.AppendLine();
        if (metrics.TryGetValue("test_per_language", out var pl) && pl is SortedDictionary<string, ClassificationReport> perLang)
        {
            sb.AppendLine("| language | n | accuracy | macro-F1 | weighted-F1 | none P/R/F1 | offensive P/R/F1 | hate P/R/F1 |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var (name, r) in perLang) sb.AppendLine(Row(name, r));
        }
        sb.AppendLine();
        sb.AppendLine("### Per target group (test examples annotated with a target; all are offensive or hate)");
        sb.AppendLine();
        if (metrics.TryGetValue("test_per_target", out var pt) && pt is SortedDictionary<string, object> perTarget)
        {
            sb.AppendLine("| target | n | exact-label accuracy | flagged recall (offensive or hate) |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var (name, o) in perTarget)
                if (o is Dictionary<string, object> d)
                    sb.AppendLine(ci, $"| {name} | {d["support"]} | {d["accuracy"]:0.000} | {d["flagged_recall"]:0.000} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Identity-term false-positive rates");
        sb.AppendLine();
        sb.AppendLine(ci, $"{metrics.GetValueOrDefault("identity_cases")} templated non-hateful sentences (neutral, positive, negation, counter-speech, reported speech; `IdentityTemplates`), 20 per group. Share labelled `hate`:");
        sb.AppendLine();
        if (metrics.TryGetValue("identity_fpr_model", out var fm) && fm is SortedDictionary<string, double> fprModel &&
            metrics.TryGetValue("identity_fpr_with_lexicons", out var fl) && fl is SortedDictionary<string, double> fprLex)
        {
            sb.AppendLine("| group | model only | model + lexicons |");
            sb.AppendLine("|---|---|---|");
            foreach (var (g, v) in fprModel) sb.AppendLine(ci, $"| {g} | {v:0.00} | {fprLex.GetValueOrDefault(g):0.00} |");
        }
        sb.AppendLine();
        sb.AppendLine("Bound checked by the test suite (`Identity_templates_false_positive_rate_per_group_is_bounded`): at most 0.25 per group and 0.10 on average, with the shipped lexicons.");
        sb.AppendLine("Training adds 630 other templated non-hateful identity sentences (different wording, `IdentityTemplates.TrainingAugmentation`) to reduce these rates.");
        sb.AppendLine();
        sb.AppendLine("## Calibration and precision-recall");
        sb.AppendLine();
        if (metrics.TryGetValue("calibration", out var cal) && cal is Dictionary<string, object> calibration)
        {
            sb.AppendLine(ci, $"Expected calibration error of the top-class softmax probability on the held-out test rows: **{calibration["ece"]:0.000}** (n = {calibration["count"]}). Reliability table:");
            sb.AppendLine();
            sb.AppendLine("| confidence bin | n | mean confidence | accuracy |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var bin in (IEnumerable<Dictionary<string, object>>)calibration["bins"])
                if ((int)bin["count"] > 0)
                    sb.AppendLine(ci, $"| {bin["lower"]:0.0}-{bin["upper"]:0.0} | {bin["count"]} | {bin["mean_confidence"]:0.000} | {bin["accuracy"]:0.000} |");
            sb.AppendLine();
        }
        if (metrics.TryGetValue("average_precision", out var apObj) && apObj is Dictionary<string, object> ap)
            sb.AppendLine(ci, $"Average precision (one class vs rest): {string.Join(", ", ap.Select(kv => string.Create(ci, $"{kv.Key} {kv.Value:0.000}")))}. Curves: `pr-curves.png` (and `pr-curves.svg`).");
        sb.AppendLine();
        if (metrics.TryGetValue("feedback_effect", out var fe) && fe is Dictionary<string, object> effect)
        {
            var without = (Dictionary<string, object>)effect["without_feedback"];
            var with = (Dictionary<string, object>)effect["with_feedback"];
            sb.AppendLine("## Analyst feedback");
            sb.AppendLine();
            sb.AppendLine(ci, $"{effect["feedback_train"]} feedback posts trained (each seen 3× per epoch); {effect["feedback_test"]} held out (20 %, stratified) to measure the effect:");
            sb.AppendLine();
            sb.AppendLine("| model | held-out feedback accuracy | held-out feedback macro-F1 | other test weighted-F1 | other test hate F1 |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var (label, d) in new[] { ("without feedback", without), ("with feedback", with) })
            {
                var fb = (ClassificationReport)d["feedback_test"];
                var ot = (ClassificationReport)d["other_test"];
                sb.AppendLine(ci, $"| {label} | {fb.Accuracy:0.000} | {fb.MacroF1:0.000} | {ot.WeightedF1:0.000} | {ot.PerClass[Labels.Hate].F1:0.000} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine("## Known failure modes");
        sb.AppendLine();
        sb.AppendLine("- English-centred: Davidson dominates the training data; French/Arabic (MLMA) and Sinhala are small and score lower.");
        if (m.TrainedScripts is { } scripts)
            sb.AppendLine(ci, $"- Trained scripts: {string.Join(", ", scripts.Select(x => x == ModelManifest.UnmappedScript ? "Latin and other scripts no single language owns (*)" : x))}. On a post in any other script (Burmese, Tamil, Amharic, ...) the model has no evidence, only hash collisions with other languages' n-grams, so it abstains and the lexicons alone label the post (its scores are still reported; explanation `{PostClassifier.UntrainedScriptNote}<script>`). Swahili and romanised text are Latin script: the model does score them, with English n-grams.");
        sb.AppendLine("- Davidson's hate class is defined by its annotators; many hate errors are offensive-vs-hate confusions on the same slurs, and reclaimed in-group use of slurs is often labelled offensive.");
        sb.AppendLine("- MLMA texts are pre-processed (stop words removed), so its test scores do not transfer to raw posts; almost all MLMA rows mention a group, which can make group words look hostile.");
        sb.AppendLine("- Bag of n-grams: no understanding of negation, irony or quotation beyond local word pairs; counter-speech that repeats a slur is matched by the lexicon rule and labelled hate.");
        sb.AppendLine("- Scores are the model's softmax; they are not recalibrated after the class biases, so read them as ranks, not probabilities.");
        return sb.ToString();
    }

    private static string Row(string name, ClassificationReport r)
    {
        var ci = CultureInfo.InvariantCulture;
        string C(string l) => r.PerClass.TryGetValue(l, out var c) ? string.Create(ci, $"{c.Precision:0.00}/{c.Recall:0.00}/{c.F1:0.00} ({c.Support})") : "-";
        return string.Create(ci, $"| {name} | {r.Count} | {r.Accuracy:0.000} | {r.MacroF1:0.000} | {r.WeightedF1:0.000} | {C(Labels.None)} | {C(Labels.Offensive)} | {C(Labels.Hate)} |");
    }
}
