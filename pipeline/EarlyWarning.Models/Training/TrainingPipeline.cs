using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Serving;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Training;

/// <summary>An example with the dataset it came from and its split.</summary>
public sealed record SplitExample(string Dataset, LabeledExample Example, string Split);

/// <summary>A trained model with its decision biases and what it was trained on.</summary>
public sealed class TrainedModel
{
    /// <summary>The linear model, or the exact linear equivalent of <see cref="EmbeddingBag"/> (same logits).</summary>
    public required LinearModel Model { get; init; }
    /// <summary>The embedding-bag model when one was trained (exported as such); null for the linear model.</summary>
    public EmbeddingBagModel? EmbeddingBag { get; init; }
    public required FeaturizerOptions Features { get; init; }
    /// <summary>Class biases in <see cref="Labels.All"/> order (chosen on validation data).</summary>
    public required float[] ClassBias { get; init; }
    public required ClassificationReport Validation { get; init; }
    public required int TrainCount { get; init; }
}

/// <summary>Split assignment, featurisation, training and bias selection; shared by <c>train</c> and the tests.</summary>
public static class TrainingPipeline
{
    /// <summary>Share of analyst feedback used for training; the rest is held out to measure the feedback's effect.</summary>
    public const double FeedbackTrainShare = 0.8;

    /// <summary>Assigns every example a split: the dataset's own (val/dev → val) or the fixed stratified split.</summary>
    public static List<SplitExample> AssignSplits(DatasetLoadResult dataset)
    {
        var ex = dataset.Examples;
        var list = new List<SplitExample>(ex.Count);
        if (ex.Any(e => e.Split is not null))
        {
            foreach (var e in ex)
            {
                var s = e.Split switch { "train" => StratifiedSplit.Train, "val" or "dev" => StratifiedSplit.Validation, "test" => StratifiedSplit.Test, _ => null };
                if (s is not null) list.Add(new SplitExample(dataset.Name, e, s));
            }
            return list;
        }
        var keys = ex.Select((e, i) => e.Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var splits = dataset.IsFeedback
            ? StratifiedSplit.Assign(keys, ex.Select(e => e.LabelIndex).ToList(), StratifiedSplit.DefaultSeed, FeedbackTrainShare, 0)
            : StratifiedSplit.Assign(keys, ex.Select(e => e.LabelIndex).ToList());
        for (var i = 0; i < ex.Count; i++) list.Add(new SplitExample(dataset.Name, ex[i], splits[i]));
        return list;
    }

    /// <summary>Trains on the train split and chooses class biases on the validation split.</summary>
    public static TrainedModel Train(IReadOnlyList<SplitExample> all, FeaturizerOptions features, TrainerOptions trainer, TextWriter? log = null)
    {
        var hasher = new FeatureHasher(features);
        var train = all.Where(s => s.Split == StratifiedSplit.Train)
            .SelectMany(s => Enumerable.Repeat(s.Example, s.Dataset == Datasets.FeedbackData.DatasetName ? Math.Max(1, trainer.FeedbackRepeat) : 1)).ToList();
        var val = all.Where(s => s.Split == StratifiedSplit.Validation).Select(s => s.Example).ToList();
        if (train.Count == 0) throw new InvalidDataException("no training examples");
        if (trainer.IdentityAugmentation)
        {
            var aug = IdentityTemplates.TrainingAugmentation();
            train.AddRange(aug.Select(t => new LabeledExample(t, Labels.None) { Language = "en", Soft = [1f, 0f, 0f] }));
            log?.WriteLine($"added {aug.Count} templated non-hateful identity sentences to the training split");
        }
        log?.WriteLine($"featurising {train.Count} training and {val.Count} validation examples");
        var trainData = SparseDataset.Featurize(train, hasher, trainer.SoftLabels);
        LinearModel model;
        EmbeddingBagModel? bag = null;
        if (trainer.Model == TrainerOptions.EmbeddingBagKind)
        {
            var eo = trainer.EmbeddingBag;
            bag = EmbeddingBagTrainer.Train(trainData, features.Dimension, Labels.All.Length, eo, trainer,
                (epoch, loss) => log?.WriteLine($"epoch {epoch}/{eo.Epochs} [{new string('#', epoch * 20 / eo.Epochs).PadRight(20)}] loss {loss:F4}"));
            model = bag.ToLinear();
        }
        else if (trainer.Model == TrainerOptions.LinearKind)
        {
            model = LogisticRegressionTrainer.Train(trainData, features.Dimension, Labels.All.Length, trainer,
                (epoch, loss) => log?.WriteLine($"epoch {epoch}/{trainer.Epochs} [{new string('#', epoch * 20 / trainer.Epochs).PadRight(20)}] loss {loss:F4}"));
        }
        else throw new ArgumentException($"unknown model kind '{trainer.Model}'", nameof(trainer));
        var bias = new float[Labels.All.Length];
        ClassificationReport valReport;
        if (val.Count > 0)
        {
            var valProbs = PredictProbabilities(model, SparseDataset.Featurize(val, hasher));
            var gold = val.Select(e => e.LabelIndex).ToArray();
            bias = ChooseBias(valProbs, gold, trainer.BiasObjective);
            valReport = ClassificationReport.Compute(gold, Decide(valProbs, bias), Labels.All);
            log?.WriteLine($"class bias (chosen on validation): offensive {bias[1]:F2}, hate {bias[2]:F2}; validation weighted-F1 {valReport.WeightedF1:F3}, hate F1 {valReport.PerClass[Labels.Hate].F1:F3}");
        }
        else
        {
            valReport = ClassificationReport.Compute([], [], Labels.All);
            log?.WriteLine("no validation split: class biases left at 0");
        }
        return new TrainedModel { Model = model, EmbeddingBag = bag, Features = features, ClassBias = bias, Validation = valReport, TrainCount = train.Count };
    }

    /// <summary>Row-major probabilities of every row.</summary>
    public static float[] PredictProbabilities(LinearModel model, SparseDataset data)
    {
        var c = model.Classes;
        var p = new float[data.Count * c];
        for (var i = 0; i < data.Count; i++) model.Probabilities(data.RowIndices(i), data.RowValues(i), p.AsSpan(i * c, c));
        return p;
    }

    public static int[] Decide(float[] probs, float[] bias)
    {
        var c = bias.Length;
        var n = probs.Length / c;
        var r = new int[n];
        for (var i = 0; i < n; i++) r[i] = DecisionRule.Decide(probs.AsSpan(i * c, c), bias);
        return r;
    }

    /// <summary>
    /// How far below the best validation objective a bias pair may score and still be chosen for being nearer zero.
    /// The objective (hate F1 + weighted F1) is flat near its top: on the default model's validation split (419 hate
    /// rows, so hate F1 alone has a sampling error of about ±0.024) eleven pairs from (−0.1, 0.0) to (0.5, 0.6) scored
    /// within 0.007 of each other, and which one won was a matter of noise, while the pairs differ a lot on text unlike
    /// the training data (simulated benign English posts labelled offensive: 17.6k of 89k at (−0.1, 0.2), 32.1k at
    /// (0.3, 0.4)). Biases move the model away from its own probabilities, so they have to earn it.
    /// </summary>
    public const double BiasTolerance = 0.005;

    /// <summary>
    /// Grid search over offensive and hate biases (none fixed at 0) for <paramref name="objective"/> (hate-F1 +
    /// weighted-F1 by default, or hate-F1 alone): among the pairs within <see cref="BiasTolerance"/> of the best score,
    /// the one nearest zero (smallest |offensive| + |hate|), then the higher score, then the first in grid order.
    /// </summary>
    public static float[] ChooseBias(float[] probs, int[] gold, string objective = TrainerOptions.BiasHatePlusWeighted)
    {
        var scored = new List<(float[] Bias, double Score)>();
        for (var bo = -1.5f; bo <= 1.5001f; bo += 0.1f)
        for (var bh = -1.5f; bh <= 3.0001f; bh += 0.1f)
        {
            var bias = new[] { 0f, MathF.Round(bo, 2), MathF.Round(bh, 2) };
            var rep = ClassificationReport.Compute(gold, Decide(probs, bias), Labels.All);
            var score = objective == TrainerOptions.BiasHateF1 ? rep.PerClass[Labels.Hate].F1 + 1e-3 * rep.WeightedF1 : rep.PerClass[Labels.Hate].F1 + rep.WeightedF1;
            scored.Add((bias, score));
        }
        var bestScore = scored.Max(x => x.Score);
        var best = scored[0];
        var bestNorm = double.PositiveInfinity;
        foreach (var x in scored)
        {
            if (x.Score < bestScore - BiasTolerance - 1e-9) continue;
            var norm = Math.Round(Math.Abs(x.Bias[1]) + Math.Abs(x.Bias[2]), 2);
            if (norm < bestNorm || (norm == bestNorm && x.Score > best.Score + 1e-9)) { best = x; bestNorm = norm; }
        }
        return best.Bias;
    }
}
