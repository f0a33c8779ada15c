namespace EarlyWarning.Models.Training;

/// <summary>Hyper-parameters of <see cref="LogisticRegressionTrainer"/>.</summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 5;
    /// <summary>AdaGrad base learning rate.</summary>
    public float LearningRate { get; init; } = 0.1f;
    /// <summary>L2 penalty, applied to the weights an example touches (the usual sparse approximation).</summary>
    public float L2 { get; init; } = 1e-4f;
    /// <summary>Class weight = (n / (classes * n_c)) ^ power: 0 = unweighted, 1 = fully balanced.</summary>
    public float ClassWeightPower { get; init; } = 0.5f;
    public int Seed { get; init; } = 1;
    /// <summary>Train towards annotator distributions where the data has them (Davidson's coder counts).</summary>
    public bool SoftLabels { get; init; }
    /// <summary>Add templated non-hateful identity sentences (label none) to the training split.</summary>
    public bool IdentityAugmentation { get; init; } = true;
    /// <summary>Which model to train: <see cref="LinearKind"/> or <see cref="EmbeddingBagKind"/>.</summary>
    public string Model { get; init; } = LinearKind;
    /// <summary>Options of the embedding-bag model (used when <see cref="Model"/> is <see cref="EmbeddingBagKind"/>).</summary>
    public EmbeddingBagOptions EmbeddingBag { get; init; } = new();
    /// <summary>What the class biases maximise on validation: <see cref="BiasHatePlusWeighted"/> or <see cref="BiasHateF1"/>.</summary>
    public string BiasObjective { get; init; } = BiasHatePlusWeighted;

    /// <summary>Each analyst-feedback training example is seen this many times per epoch (analysts correct what matters).</summary>
    public int FeedbackRepeat { get; init; } = 3;

    public const string LinearKind = "hashed-linear";
    public const string EmbeddingBagKind = "hashed-embedding-bag";
    public const string BiasHatePlusWeighted = "hate_f1+weighted_f1";
    public const string BiasHateF1 = "hate_f1";
}

/// <summary>
/// Multinomial logistic regression trained by AdaGrad over sparse rows, with L2 and class weighting.
/// Single-threaded on purpose: the result is bit-for-bit the same for a given seed.
/// </summary>
public static class LogisticRegressionTrainer
{
    /// <summary>Trains a model of <paramref name="dimension"/> features and <paramref name="classes"/> classes.</summary>
    public static LinearModel Train(SparseDataset data, int dimension, int classes, TrainerOptions? options = null, Action<int, double>? onEpoch = null)
    {
        var o = options ?? new TrainerOptions();
        var model = new LinearModel(dimension, classes);
        var gw = new float[model.Weights.Length];
        var gb = new float[classes];
        var classWeight = ClassWeights(data.Labels, classes, o.ClassWeightPower);
        var order = Enumerable.Range(0, data.Count).ToArray();
        var rng = new Random(o.Seed);
        Span<float> p = stackalloc float[classes];
        const float eps = 1e-8f;
        for (var epoch = 0; epoch < o.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double loss = 0;
            foreach (var row in order)
            {
                var idx = data.RowIndices(row);
                var val = data.RowValues(row);
                var y = data.Labels[row];
                if ((uint)y >= (uint)classes) continue; // unlabelled rows never reach here; guard anyway
                model.Probabilities(idx, val, p);
                var cw = classWeight[y];
                loss -= cw * Math.Log(Math.Max(p[y], 1e-12f));
                var soft = data.Soft?[row];
                for (var c = 0; c < classes; c++) p[c] = cw * (p[c] - (soft is not null ? soft[c] : c == y ? 1f : 0f));
                for (var c = 0; c < classes; c++)
                {
                    var g = p[c];
                    gb[c] += g * g;
                    model.Bias[c] -= o.LearningRate * g / (MathF.Sqrt(gb[c]) + eps);
                }
                var w = model.Weights;
                for (var i = 0; i < idx.Length; i++)
                {
                    var baseIdx = idx[i] * classes;
                    var x = val[i];
                    for (var c = 0; c < classes; c++)
                    {
                        var k = baseIdx + c;
                        var g = p[c] * x + o.L2 * w[k];
                        gw[k] += g * g;
                        w[k] -= o.LearningRate * g / (MathF.Sqrt(gw[k]) + eps);
                    }
                }
            }
            onEpoch?.Invoke(epoch + 1, loss / Math.Max(1, data.Count));
        }
        return model;
    }

    /// <summary>Balanced class weights raised to <paramref name="power"/>.</summary>
    public static float[] ClassWeights(IReadOnlyList<int> labels, int classes, float power)
    {
        var counts = new int[classes];
        foreach (var y in labels) if ((uint)y < (uint)classes) counts[y]++;
        var n = counts.Sum();
        var w = new float[classes];
        for (var c = 0; c < classes; c++)
            w[c] = counts[c] == 0 ? 1f : MathF.Pow((float)n / (classes * counts[c]), power);
        return w;
    }
}
