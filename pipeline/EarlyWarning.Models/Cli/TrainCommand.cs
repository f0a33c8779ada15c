using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Cli;

/// <summary><c>train --data PATH... --out DIR [--name NAME]</c>: trains the hashed linear model and writes a model directory.</summary>
public static class TrainCommand
{
    /// <summary>The default model's name; other models (a script model, say) should be named apart, as decisions name their model.</summary>
    public const string DefaultName = "earlywarning-linear";

    /// <summary>Trains from dataset folders or CSV/JSONL files; returns 0 on success, 2 on bad input.</summary>
    public static int Run(IReadOnlyList<string> dataPaths, string outDir, TextWriter log, string? name = null) =>
        Run(dataPaths, outDir, log, new TrainerOptions(), FeaturizerOptions.Default, name ?? DefaultName, "1.1.0");

    /// <summary>As <see cref="Run(IReadOnlyList{string}, string, TextWriter, string?)"/> with explicit options.</summary>
    public static int Run(IReadOnlyList<string> dataPaths, string outDir, TextWriter log, TrainerOptions trainer, FeaturizerOptions features, string name, string version)
    {
        if (dataPaths.Count == 0) { log.WriteLine("train: no --data given"); return 2; }
        var sw = Stopwatch.StartNew();
        var datasets = new List<DatasetLoadResult>();
        foreach (var p in dataPaths)
        {
            var d = DatasetLoader.Load(p);
            log.WriteLine($"loaded {d.Name}: {d.Examples.Count} examples, {d.Skipped.Count} skipped, licence {d.Licence}");
            foreach (var g in d.Skipped.GroupBy(s => s.Reason)) log.WriteLine($"  skipped {g.Count()} ({g.Key}), first at {g.First().Where}");
            if (d.Examples.Count == 0) { log.WriteLine($"train: no usable examples in {p}"); return 2; }
            datasets.Add(d);
        }
        var all = datasets.SelectMany(TrainingPipeline.AssignSplits).ToList();
        var trained = TrainingPipeline.Train(all, features, trainer, log);
        TrainedModel? withoutFeedback = null;
        if (datasets.Any(d => d.IsFeedback) && datasets.Any(d => !d.IsFeedback))
        {
            log.WriteLine("training the same model without analyst feedback, to measure the feedback's effect");
            withoutFeedback = TrainingPipeline.Train(all.Where(s => s.Dataset != FeedbackData.DatasetName).ToList(), features, trainer, null);
        }
        var trainSeconds = sw.Elapsed.TotalSeconds;

        var scripts = TrainingScripts.Count(all.Where(s => s.Split == StratifiedSplit.Train).Select(s => s.Example.Text));
        log.WriteLine("trained scripts (posts in others are left to the lexicons, or to a script model that covers them): " + string.Join(", ", scripts.Select(s => $"{s.Script} ({s.Examples})")));

        Directory.CreateDirectory(outDir);
        var manifest = new ModelManifest
        {
            Name = name,
            Version = version,
            Kind = trained.EmbeddingBag is null ? TrainerOptions.LinearKind : TrainerOptions.EmbeddingBagKind,
            Inputs =
            [
                new TensorSpec(OnnxLinearModelWriter.IndicesInput, "int32", ["N", "K"]),
                new TensorSpec(OnnxLinearModelWriter.ValuesInput, "float", ["N", "K"]),
            ],
            Outputs = [new TensorSpec(OnnxLinearModelWriter.ProbabilitiesOutput, "float", ["N", Labels.All.Length])],
            Featurizer = FeaturizerSpec.From(features),
            ClassBias = Labels.All.Select((l, i) => (l, (double)trained.ClassBias[i])).ToDictionary(x => x.l, x => Math.Round(x.Item2, 3)),
            TrainingData = datasets.Select(d => new TrainingDataSpec(d.Name, d.Licence,
                all.Count(s => s.Dataset == d.Name && s.Split == StratifiedSplit.Train))).ToList(),
            TrainedScripts = scripts.Select(s => s.Script).ToList(),
            Created = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        var onnxMetadata = new Dictionary<string, string> { ["labels"] = string.Join(',', Labels.All), ["featurizer_fingerprint"] = manifest.Featurizer.Fingerprint };
        if (trained.EmbeddingBag is { } bag) OnnxEmbeddingBagWriter.Write(bag, Path.Combine(outDir, manifest.ModelFile), version, onnxMetadata);
        else OnnxLinearModelWriter.Write(trained.Model, Path.Combine(outDir, manifest.ModelFile), version, onnxMetadata);
        manifest.Save(Path.Combine(outDir, "model.json"));

        // Evaluate what ships: the ONNX model through the serving path.
        using var classifier = new PostClassifier(OnnxClassifier.Load(outDir), Lexicon.LoadDirectory(ModelPaths.DefaultLexiconDir));
        var metrics = Measure(classifier, datasets, all, trained, log);
        metrics["train_seconds"] = Math.Round(trainSeconds, 1);
        if (withoutFeedback is not null) metrics["feedback_effect"] = FeedbackEffect(classifier, withoutFeedback, all, log);
        var curves = (IReadOnlyList<PrCurve>)metrics["pr_curves_data"];
        var plotTitle = $"{manifest.Id}: held-out test, one class vs rest";
        File.WriteAllText(Path.Combine(outDir, "pr-curves.svg"), PrCurves.ToSvg(curves, plotTitle), new UTF8Encoding(false));
        if (!PrCurves.TrySavePng(curves, plotTitle, Path.Combine(outDir, "pr-curves.png"), out var plotError))
            log.WriteLine($"pr-curves.png not drawn ({plotError}); pr-curves.svg written");
        metrics.Remove("pr_curves_data");
        metrics["class_bias"] = manifest.ClassBias;
        File.WriteAllText(Path.Combine(outDir, "metrics.json"),
            JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }) + "\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(outDir, "model-card.md"), ModelCard.Render(manifest, datasets, all, metrics), new UTF8Encoding(false));
        log.WriteLine($"wrote {outDir} in {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static Dictionary<string, object> Measure(PostClassifier classifier, List<DatasetLoadResult> datasets, List<SplitExample> all,
        TrainedModel trained, TextWriter log)
    {
        var metrics = new Dictionary<string, object> { ["validation"] = trained.Validation };
        var test = all.Where(s => s.Split == StratifiedSplit.Test).ToList();
        var texts = test.Select(s => s.Example.Text).ToList();
        var probs = new float[texts.Count * classifier.Model.Classes];
        classifier.Model.Predict(texts, probs);
        var pred = Enumerable.Range(0, test.Count).Select(i => classifier.Model.Decide(probs.AsSpan(i * 3, 3))).ToArray();

        var perDataset = new Dictionary<string, ClassificationReport>();
        foreach (var d in datasets)
        {
            var idx = Enumerable.Range(0, test.Count).Where(i => test[i].Dataset == d.Name).ToList();
            var rep = ClassificationReport.Compute(idx.Select(i => test[i].Example.LabelIndex).ToList(), idx.Select(i => pred[i]).ToList(), Labels.All);
            perDataset[d.Name] = rep;
            log.WriteLine($"test {d.Name}: n={rep.Count} acc {rep.Accuracy:F3} macro-F1 {rep.MacroF1:F3} weighted-F1 {rep.WeightedF1:F3} hate F1 {rep.PerClass[Labels.Hate].F1:F3}");
        }
        metrics["test_per_dataset"] = perDataset;

        // Calibration and PR curves over the held-out test rows of the labelled datasets (not analyst feedback).
        var held = Enumerable.Range(0, test.Count).Where(i => test[i].Dataset != FeedbackData.DatasetName).ToArray();
        var heldProbs = new float[held.Length * 3];
        for (var j = 0; j < held.Length; j++) probs.AsSpan(held[j] * 3, 3).CopyTo(heldProbs.AsSpan(j * 3, 3));
        var heldGold = held.Select(i => test[i].Example.LabelIndex).ToArray();
        var calibration = CalibrationReport.Compute(heldProbs, heldGold, 3);
        metrics["calibration"] = new Dictionary<string, object>
        {
            ["scope"] = "top-class softmax probability on the held-out test rows, before class biases; 10 equal-width bins",
            ["ece"] = calibration.Ece,
            ["count"] = calibration.Count,
            ["bins"] = calibration.Bins.Select(b => new Dictionary<string, object>
            {
                ["lower"] = b.Lower, ["upper"] = b.Upper, ["count"] = b.Count, ["mean_confidence"] = b.MeanConfidence, ["accuracy"] = b.Accuracy,
            }).ToList(),
        };
        var curves = Enumerable.Range(0, 3).Select(c => PrCurves.Compute(heldProbs, heldGold, 3, c, Labels.All[c])).ToList();
        metrics["average_precision"] = curves.ToDictionary(c => c.Label, c => (object)c.AveragePrecision);
        metrics["pr_curves_data"] = curves;
        log.WriteLine($"calibration: ECE {calibration.Ece:F3}; average precision none {curves[0].AveragePrecision:F3} offensive {curves[1].AveragePrecision:F3} hate {curves[2].AveragePrecision:F3}");

        var perLang = new SortedDictionary<string, ClassificationReport>(StringComparer.Ordinal);
        foreach (var g in Enumerable.Range(0, test.Count).GroupBy(i => test[i].Example.Language ?? "unknown"))
            perLang[g.Key] = ClassificationReport.Compute(g.Select(i => test[i].Example.LabelIndex).ToList(), g.Select(i => pred[i]).ToList(), Labels.All);
        metrics["test_per_language"] = perLang;

        var perTarget = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var g in Enumerable.Range(0, test.Count).Where(i => test[i].Example.Target is not null).GroupBy(i => test[i].Example.Target!))
        {
            var n = g.Count();
            perTarget[g.Key] = new Dictionary<string, object>
            {
                ["support"] = n,
                ["accuracy"] = Math.Round(g.Count(i => pred[i] == test[i].Example.LabelIndex) / (double)n, 4),
                ["flagged_recall"] = Math.Round(g.Count(i => pred[i] != 0) / (double)n, 4),
            };
        }
        metrics["test_per_target"] = perTarget;

        var cases = IdentityTemplates.All();
        var modelOnly = ModelOnlyLabels(classifier, cases.Select(c => c.Text).ToList());
        var withLexicon = classifier.ClassifyTexts(cases.Select(c => c.Text).ToList()).Select(d => d.Label).ToList();
        metrics["identity_fpr_model"] = IdentityTemplates.FalsePositiveRates(cases, modelOnly);
        metrics["identity_fpr_with_lexicons"] = IdentityTemplates.FalsePositiveRates(cases, withLexicon);
        metrics["identity_cases"] = cases.Count;
        log.WriteLine($"identity templates: max false-positive rate per group {IdentityTemplates.FalsePositiveRates(cases, withLexicon).Values.Max():F3} (with lexicons)");
        return metrics;
    }

    /// <summary>Scores the models trained with and without feedback on the held-out feedback and on the other test rows.</summary>
    private static Dictionary<string, object> FeedbackEffect(PostClassifier with, TrainedModel without, List<SplitExample> all, TextWriter log)
    {
        var hasher = new FeatureHasher(without.Features);
        var fbTest = all.Where(s => s.Dataset == FeedbackData.DatasetName && s.Split == StratifiedSplit.Test).Select(s => s.Example).ToList();
        var other = all.Where(s => s.Dataset != FeedbackData.DatasetName && s.Split == StratifiedSplit.Test).Select(s => s.Example).ToList();
        ClassificationReport Without(List<LabeledExample> ex) => ClassificationReport.Compute(ex.Select(e => e.LabelIndex).ToList(),
            TrainingPipeline.Decide(TrainingPipeline.PredictProbabilities(without.Model, SparseDataset.Featurize(ex, hasher)), without.ClassBias), Labels.All);
        ClassificationReport With(List<LabeledExample> ex)
        {
            var p = new float[ex.Count * 3];
            with.Model.Predict(ex.Select(e => e.Text).ToList(), p);
            return ClassificationReport.Compute(ex.Select(e => e.LabelIndex).ToList(), Enumerable.Range(0, ex.Count).Select(i => with.Model.Decide(p.AsSpan(i * 3, 3))).ToList(), Labels.All);
        }
        var result = new Dictionary<string, object>
        {
            ["feedback_train"] = all.Count(s => s.Dataset == FeedbackData.DatasetName && s.Split == StratifiedSplit.Train),
            ["feedback_test"] = fbTest.Count,
            ["without_feedback"] = new Dictionary<string, object> { ["feedback_test"] = Without(fbTest), ["other_test"] = Without(other) },
            ["with_feedback"] = new Dictionary<string, object> { ["feedback_test"] = With(fbTest), ["other_test"] = With(other) },
        };
        var a = (ClassificationReport)((Dictionary<string, object>)result["without_feedback"])["feedback_test"];
        var b = (ClassificationReport)((Dictionary<string, object>)result["with_feedback"])["feedback_test"];
        log.WriteLine($"feedback effect on {fbTest.Count} held-out feedback posts: accuracy {a.Accuracy:F3} -> {b.Accuracy:F3}, macro-F1 {a.MacroF1:F3} -> {b.MacroF1:F3}");
        return result;
    }

    internal static List<string> ModelOnlyLabels(PostClassifier classifier, IReadOnlyList<string> texts)
    {
        var c = classifier.Model.Classes;
        var probs = new float[texts.Count * c];
        classifier.Model.Predict(texts, probs);
        return Enumerable.Range(0, texts.Count).Select(i => classifier.Model.Manifest.Labels[classifier.Model.Decide(probs.AsSpan(i * c, c))]).ToList();
    }
}
