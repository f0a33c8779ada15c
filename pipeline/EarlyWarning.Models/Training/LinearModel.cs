namespace EarlyWarning.Models.Training;

/// <summary>
/// A multinomial logistic-regression model over hashed sparse features: logits = x·W + b, probabilities = softmax.
/// Weights are row-major by feature (<c>W[feature * Classes + class]</c>), the layout the ONNX Gather reads.
/// </summary>
public sealed class LinearModel
{
    public LinearModel(int dimension, int classes)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes));
        Dimension = dimension;
        Classes = classes;
        Weights = new float[checked(dimension * classes)];
        Bias = new float[classes];
    }

    public LinearModel(int dimension, int classes, float[] weights, float[] bias)
    {
        if (weights.Length != dimension * classes) throw new ArgumentException("weights length must be dimension*classes", nameof(weights));
        if (bias.Length != classes) throw new ArgumentException("bias length must be classes", nameof(bias));
        Dimension = dimension;
        Classes = classes;
        Weights = weights;
        Bias = bias;
    }

    public int Dimension { get; }
    public int Classes { get; }
    public float[] Weights { get; }
    public float[] Bias { get; }

    /// <summary>Writes the logits of one sparse example into <paramref name="logits"/> (length <see cref="Classes"/>).</summary>
    public void Logits(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> logits)
    {
        Bias.AsSpan().CopyTo(logits);
        var c = Classes;
        for (var i = 0; i < indices.Length; i++)
        {
            var row = Weights.AsSpan(indices[i] * c, c);
            var v = values[i];
            for (var k = 0; k < c; k++) logits[k] += row[k] * v;
        }
    }

    /// <summary>Writes softmax probabilities of one sparse example into <paramref name="probabilities"/>.</summary>
    public void Probabilities(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> probabilities)
    {
        Logits(indices, values, probabilities);
        Softmax(probabilities);
    }

    /// <summary>In-place, numerically stable softmax.</summary>
    public static void Softmax(Span<float> z)
    {
        var max = float.NegativeInfinity;
        foreach (var v in z) max = MathF.Max(max, v);
        var sum = 0f;
        for (var i = 0; i < z.Length; i++) { z[i] = MathF.Exp(z[i] - max); sum += z[i]; }
        for (var i = 0; i < z.Length; i++) z[i] /= sum;
    }
}
