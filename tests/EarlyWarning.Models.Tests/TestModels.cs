using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Tests;

/// <summary>Builds small model directories for tests.</summary>
internal static class TestModels
{
    public static readonly FeaturizerOptions SmallFeatures = FeaturizerOptions.Default with { Dimension = 1 << 12, MaxFeatures = 256 };

    /// <summary>A model directory holding a random linear model over <see cref="SmallFeatures"/>.</summary>
    public static (string Dir, LinearModel Model) RandomModelDir(int seed, float[]? classBias = null, FeaturizerOptions? features = null)
    {
        features ??= SmallFeatures;
        var rng = new Random(seed);
        var m = new LinearModel(features.Dimension, 3);
        for (var i = 0; i < m.Weights.Length; i++) m.Weights[i] = (float)(rng.NextDouble() * 4 - 2);
        for (var i = 0; i < 3; i++) m.Bias[i] = (float)(rng.NextDouble() - 0.5);
        var dir = EarlyWarning.Tests.TestPaths.NewTempDir("ew-models");
        Write(dir, m, features, classBias ?? [0, 0, 0]);
        return (dir, m);
    }

    public static void Write(string dir, LinearModel m, FeaturizerOptions f, float[] bias)
    {
        OnnxLinearModelWriter.Write(m, Path.Combine(dir, "model.onnx"), "test");
        new ModelManifest
        {
            Name = "test-model",
            Version = "0.0.1",
            Featurizer = FeaturizerSpec.From(f),
            ClassBias = Labels.All.Select((l, i) => (l, (double)bias[i])).ToDictionary(x => x.l, x => x.Item2),
        }.Save(Path.Combine(dir, "model.json"));
    }

    public static string ShippedModelDir => Path.Combine(EarlyWarning.Tests.TestPaths.RepoRoot, "models", "default");
    public static string ShippedLexiconDir => Path.Combine(EarlyWarning.Tests.TestPaths.RepoRoot, "models", "lexicons");
}
