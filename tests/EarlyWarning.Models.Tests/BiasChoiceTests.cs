using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Models.Tests;

/// <summary>
/// The class biases are chosen on validation data: among the grid pairs within <see cref="TrainingPipeline.BiasTolerance"/>
/// of the best objective, the one nearest zero. Checked against a brute-force scoring of the whole grid on noisy
/// synthetic validation sets, where the flat top of the objective makes the two rules disagree.
/// </summary>
public class BiasChoiceTests
{
    private static (float[] Probs, int[] Gold) Synthetic(int seed, int n = 1500)
    {
        var rng = new Random(seed);
        var probs = new float[n * 3];
        var gold = new int[n];
        var z = new double[3];
        for (var i = 0; i < n; i++)
        {
            var g = rng.NextDouble() switch { < 0.2 => 0, < 0.9 => 1, _ => 2 };
            gold[i] = g;
            // A weak, noisy model: the gold class gets a small boost over random logits.
            for (var c = 0; c < 3; c++) z[c] = rng.NextDouble() * 2 + (c == g ? 0.8 : 0);
            var sum = Math.Exp(z[0]) + Math.Exp(z[1]) + Math.Exp(z[2]);
            for (var c = 0; c < 3; c++) probs[i * 3 + c] = (float)(Math.Exp(z[c]) / sum);
        }
        return (probs, gold);
    }

    private static double Objective(float[] probs, int[] gold, float offensive, float hate)
    {
        var rep = ClassificationReport.Compute(gold, TrainingPipeline.Decide(probs, [0f, offensive, hate]), Labels.All);
        return rep.PerClass[Labels.Hate].F1 + rep.WeightedF1;
    }

    [Fact]
    public void Chosen_biases_are_the_nearest_zero_within_the_tolerance_of_the_best()
    {
        var differed = 0;
        for (var seed = 1; seed <= 6; seed++)
        {
            var (probs, gold) = Synthetic(seed);
            var grid = new List<(float O, float H, double Score)>();
            for (var bo = -1.5f; bo <= 1.5001f; bo += 0.1f)
            for (var bh = -1.5f; bh <= 3.0001f; bh += 0.1f)
                grid.Add((MathF.Round(bo, 2), MathF.Round(bh, 2), Objective(probs, gold, MathF.Round(bo, 2), MathF.Round(bh, 2))));
            var best = grid.Max(g => g.Score);
            var chosen = TrainingPipeline.ChooseBias(probs, gold);
            Assert.Equal(0f, chosen[0]);
            var chosenScore = Objective(probs, gold, chosen[1], chosen[2]);
            Assert.True(chosenScore >= best - TrainingPipeline.BiasTolerance - 1e-9, $"seed {seed}: {chosenScore} vs best {best}");
            var norm = Math.Abs(chosen[1]) + Math.Abs(chosen[2]);
            foreach (var g in grid.Where(g => g.Score >= best - TrainingPipeline.BiasTolerance - 1e-9))
                Assert.True(Math.Abs(g.O) + Math.Abs(g.H) >= norm - 1e-4, $"seed {seed}: ({g.O}, {g.H}) is within the tolerance and nearer zero than ({chosen[1]}, {chosen[2]})");
            if (chosenScore < best - 1e-9) differed++;
        }
        Assert.True(differed > 0, "on none of the seeds did the tolerance change the choice: the test shows nothing");
    }
}
