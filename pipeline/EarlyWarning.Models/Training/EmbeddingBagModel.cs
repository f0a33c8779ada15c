namespace EarlyWarning.Models.Training;

/// <summary>
/// A fastText-style embedding-bag classifier over hashed sparse features: h = Σ v_i·E[i] (an embedding per hashed
/// n-gram, weighted by the feature value), logits = h·W2 + b, probabilities = softmax. Without a non-linearity this is
/// a rank-<see cref="EmbeddingDim"/> linear model, so <see cref="ToLinear"/> gives exact per-feature weights for
/// explanations.
/// </summary>
public sealed class EmbeddingBagModel
{
    public EmbeddingBagModel(int dimension, int embeddingDim, int classes)
        : this(dimension, embeddingDim, classes, new float[checked(dimension * embeddingDim)], new float[embeddingDim * classes], new float[classes])
    {
    }

    public EmbeddingBagModel(int dimension, int embeddingDim, int classes, float[] embeddings, float[] output, float[] bias)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        if (embeddingDim <= 0) throw new ArgumentOutOfRangeException(nameof(embeddingDim));
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes));
        if (embeddings.Length != dimension * embeddingDim) throw new ArgumentException("embeddings length must be dimension*embeddingDim", nameof(embeddings));
        if (output.Length != embeddingDim * classes) throw new ArgumentException("output length must be embeddingDim*classes", nameof(output));
        if (bias.Length != classes) throw new ArgumentException("bias length must be classes", nameof(bias));
        Dimension = dimension;
        EmbeddingDim = embeddingDim;
        Classes = classes;
        Embeddings = embeddings;
        Output = output;
        Bias = bias;
    }

    public int Dimension { get; }
    public int EmbeddingDim { get; }
    public int Classes { get; }
    /// <summary>E, row-major [Dimension, EmbeddingDim].</summary>
    public float[] Embeddings { get; }
    /// <summary>W2, row-major [EmbeddingDim, Classes].</summary>
    public float[] Output { get; }
    public float[] Bias { get; }

    /// <summary>Writes the bag vector h of one sparse example into <paramref name="hidden"/> (length <see cref="EmbeddingDim"/>).</summary>
    public void Hidden(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> hidden)
    {
        hidden.Clear();
        var d = EmbeddingDim;
        for (var i = 0; i < indices.Length; i++)
        {
            var row = Embeddings.AsSpan(indices[i] * d, d);
            var v = values[i];
            for (var k = 0; k < d; k++) hidden[k] += row[k] * v;
        }
    }

    /// <summary>Logits from a bag vector.</summary>
    public void LogitsFromHidden(ReadOnlySpan<float> hidden, Span<float> logits)
    {
        Bias.AsSpan().CopyTo(logits);
        for (var k = 0; k < EmbeddingDim; k++)
        {
            var h = hidden[k];
            var row = Output.AsSpan(k * Classes, Classes);
            for (var c = 0; c < Classes; c++) logits[c] += h * row[c];
        }
    }

    /// <summary>The equivalent linear model W = E·W2 (same logits for every input).</summary>
    public LinearModel ToLinear()
    {
        var w = new float[checked(Dimension * Classes)];
        for (var f = 0; f < Dimension; f++)
        {
            var e = Embeddings.AsSpan(f * EmbeddingDim, EmbeddingDim);
            var dst = w.AsSpan(f * Classes, Classes);
            for (var k = 0; k < EmbeddingDim; k++)
            {
                var x = e[k];
                if (x == 0) continue;
                var row = Output.AsSpan(k * Classes, Classes);
                for (var c = 0; c < Classes; c++) dst[c] += x * row[c];
            }
        }
        return new LinearModel(Dimension, Classes, w, (float[])Bias.Clone());
    }
}

/// <summary>Hyper-parameters of <see cref="EmbeddingBagTrainer"/>.</summary>
public sealed record EmbeddingBagOptions
{
    /// <summary>Embedding width (fastText's <c>-dim</c>).</summary>
    public int EmbeddingDim { get; init; } = 16;
    public int Epochs { get; init; } = 10;
    /// <summary>SGD learning rate at the start; it decays linearly to 0 over training, as in fastText.</summary>
    public float LearningRate { get; init; } = 0.5f;
}

/// <summary>
/// Trains an <see cref="EmbeddingBagModel"/> with plain SGD and a linearly decaying learning rate (fastText's
/// schedule): E uniform in ±1/dim, W2 and b zero. Class weights and soft labels as in <see cref="LogisticRegressionTrainer"/>.
/// Single-threaded and seeded: the same data and options give the same weights.
/// </summary>
public static class EmbeddingBagTrainer
{
    public static EmbeddingBagModel Train(SparseDataset data, int dimension, int classes, EmbeddingBagOptions options, TrainerOptions common,
        Action<int, double>? onEpoch = null)
    {
        var d = options.EmbeddingDim;
        var model = new EmbeddingBagModel(dimension, d, classes);
        var rng = new Random(common.Seed);
        var scale = 1f / d;
        for (var i = 0; i < model.Embeddings.Length; i++) model.Embeddings[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        var classWeight = LogisticRegressionTrainer.ClassWeights(data.Labels, classes, common.ClassWeightPower);
        var order = Enumerable.Range(0, data.Count).ToArray();
        var hidden = new float[d];
        var grad = new float[d];
        var p = new float[classes];
        long total = (long)options.Epochs * data.Count, step = 0;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double loss = 0;
            foreach (var row in order)
            {
                var lr = options.LearningRate * (1f - (float)step++ / total);
                var y = data.Labels[row];
                if ((uint)y >= (uint)classes) continue;
                var idx = data.RowIndices(row);
                var val = data.RowValues(row);
                model.Hidden(idx, val, hidden);
                model.LogitsFromHidden(hidden, p);
                LinearModel.Softmax(p);
                var cw = classWeight[y];
                loss -= cw * Math.Log(Math.Max(p[y], 1e-12f));
                var soft = data.Soft?[row];
                for (var c = 0; c < classes; c++) p[c] = cw * (p[c] - (soft is not null ? soft[c] : c == y ? 1f : 0f));
                // dh = W2·g (before W2 moves), then W2 -= lr·h⊗g, E[i] -= lr·v_i·dh.
                Array.Clear(grad);
                for (var k = 0; k < d; k++)
                {
                    var o = model.Output.AsSpan(k * classes, classes);
                    var s = 0f;
                    for (var c = 0; c < classes; c++) { s += o[c] * p[c]; o[c] -= lr * hidden[k] * p[c]; }
                    grad[k] = s;
                }
                for (var c = 0; c < classes; c++) model.Bias[c] -= lr * p[c];
                for (var i = 0; i < idx.Length; i++)
                {
                    var e = model.Embeddings.AsSpan(idx[i] * d, d);
                    var f = lr * val[i];
                    for (var k = 0; k < d; k++) e[k] -= f * grad[k];
                }
            }
            onEpoch?.Invoke(epoch + 1, loss / Math.Max(1, data.Count));
        }
        return model;
    }
}
