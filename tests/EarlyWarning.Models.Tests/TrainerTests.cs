using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Models.Tests;

public class TrainerTests
{
    // Three classes, each marked by its own block of features plus shared noise features.
    private static SparseDataset Toy(int n, int seed)
    {
        var rng = new Random(seed);
        var rows = new List<(int[], float[])>();
        var labels = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var y = i % 3;
            var idx = new SortedSet<int> { y * 10 + rng.Next(10), 100 + rng.Next(50), 100 + rng.Next(50) };
            var arr = idx.ToArray();
            var v = 1f / MathF.Sqrt(arr.Length);
            rows.Add((arr, arr.Select(_ => v).ToArray()));
            labels.Add(y);
        }
        return SparseDataset.FromRows(rows, labels);
    }

    [Fact]
    public void Learns_a_separable_toy_set()
    {
        var train = Toy(600, 1);
        var test = Toy(300, 2);
        var model = LogisticRegressionTrainer.Train(train, 256, 3, new TrainerOptions { Epochs = 10, LearningRate = 0.5f });
        var pred = TrainingPipeline.Decide(TrainingPipeline.PredictProbabilities(model, test), [0, 0, 0]);
        var report = ClassificationReport.Compute(test.Labels, pred, Labels.All);
        Assert.Equal(1.0, report.Accuracy);
    }

    [Fact]
    public void Untrained_model_is_at_chance_so_the_toy_test_can_fail()
    {
        var test = Toy(300, 2);
        var pred = TrainingPipeline.Decide(TrainingPipeline.PredictProbabilities(new LinearModel(256, 3), test), [0, 0, 0]);
        Assert.True(ClassificationReport.Compute(test.Labels, pred, Labels.All).Accuracy < 0.5);
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed_and_differs_across_seeds()
    {
        var data = Toy(300, 3);
        var a = LogisticRegressionTrainer.Train(data, 256, 3, new TrainerOptions { Seed = 4 });
        var b = LogisticRegressionTrainer.Train(data, 256, 3, new TrainerOptions { Seed = 4 });
        var c = LogisticRegressionTrainer.Train(data, 256, 3, new TrainerOptions { Seed = 5 });
        Assert.Equal(a.Weights, b.Weights);
        Assert.NotEqual(a.Weights, c.Weights);
    }

    [Fact]
    public void Class_weights_favour_the_rare_class()
    {
        var w = LogisticRegressionTrainer.ClassWeights([0, 0, 0, 0, 0, 0, 1, 1, 2], 3, 1f);
        Assert.True(w[2] > w[1] && w[1] > w[0]);
        Assert.Equal([1f, 1f, 1f], LogisticRegressionTrainer.ClassWeights([0, 1, 2, 2], 3, 0f));
    }

    [Fact]
    public void Stratified_split_is_fixed_and_keeps_class_proportions()
    {
        var keys = Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var labels = keys.Select((_, i) => i % 10 == 0 ? 2 : i % 3 == 0 ? 0 : 1).ToList();
        var s1 = StratifiedSplit.Assign(keys, labels);
        var s2 = StratifiedSplit.Assign(keys, labels);
        Assert.Equal(s1, s2);
        foreach (var cls in new[] { 0, 1, 2 })
        {
            var idx = Enumerable.Range(0, 1000).Where(i => labels[i] == cls).ToList();
            Assert.InRange(idx.Count(i => s1[i] == StratifiedSplit.Test) / (double)idx.Count, 0.18, 0.22);
            Assert.InRange(idx.Count(i => s1[i] == StratifiedSplit.Validation) / (double)idx.Count, 0.08, 0.12);
        }
        Assert.NotEqual(s1, StratifiedSplit.Assign(keys, labels, seed: 99));
    }

    [Fact]
    public void Metrics_match_a_hand_computed_case()
    {
        // gold: none none off off hate ; pred: none off off off none
        var r = ClassificationReport.Compute([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], Labels.All);
        Assert.Equal(0.6, r.Accuracy, 4);
        Assert.Equal(0.5, r.PerClass["none"].Precision, 4);
        Assert.Equal(0.5, r.PerClass["none"].Recall, 4);
        Assert.Equal(0.8, r.PerClass["offensive"].F1, 4);
        Assert.Equal(0, r.PerClass["hate"].F1, 4);
        Assert.Equal(Math.Round((0.5 + 0.8 + 0) / 3, 4), r.MacroF1, 4);
        Assert.Equal(Math.Round((0.5 * 2 + 0.8 * 2) / 5, 4), r.WeightedF1, 4);
    }
}
