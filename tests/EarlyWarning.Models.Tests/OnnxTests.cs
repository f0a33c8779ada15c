using System.Text.Json;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Serving;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Tests;

public class OnnxTests
{
    private static readonly string[] Texts =
    [
        "the quick brown fox", "", "you are all wonderful people", "ဒီနေ့ မိုးရွာတယ်", "ශ්‍රී ලංකාව", "a",
        new string('x', 3000), "Habari za asubuhi 😀", "   ", "12345 !!!",
    ];

    /// <summary>
    /// Also for a model trained with the previous featuriser (ew-hash-v2): its manifest names that algorithm, so it is
    /// served with v2's features, not the current default's.
    /// </summary>
    [Theory]
    [InlineData(FeaturizerOptions.AlgorithmV3)]
    [InlineData(FeaturizerOptions.AlgorithmV2)]
    public void Exported_model_matches_in_memory_probabilities_in_onnx_runtime(string algorithm)
    {
        var features = TestModels.SmallFeatures with { Algorithm = algorithm };
        var (dir, model) = TestModels.RandomModelDir(7, features: features);
        using var onnx = OnnxClassifier.Load(dir);
        Assert.Equal(algorithm, onnx.Hasher.Options.Algorithm);
        var probs = new float[Texts.Length * 3];
        onnx.Predict(Texts, probs);
        var hasher = new FeatureHasher(features);
        var idx = new int[256];
        var val = new float[256];
        Span<float> expected = stackalloc float[3];
        for (var i = 0; i < Texts.Length; i++)
        {
            var n = hasher.Featurize(Texts[i], idx, val);
            model.Probabilities(idx.AsSpan(0, n), val.AsSpan(0, n), expected);
            for (var c = 0; c < 3; c++) Assert.InRange(probs[i * 3 + c], expected[c] - 1e-4f, expected[c] + 1e-4f);
            Assert.InRange(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2], 0.999f, 1.001f);
        }
    }

    [Fact]
    public void Batches_larger_than_one_run_give_the_same_rows_as_single_posts()
    {
        var (dir, _) = TestModels.RandomModelDir(3);
        using var onnx = OnnxClassifier.Load(dir);
        var many = Enumerable.Range(0, OnnxClassifier.MaxBatch + 37).Select(i => Texts[i % Texts.Length] + " " + i).ToList();
        var all = new float[many.Count * 3];
        onnx.Predict(many, all);
        var one = new float[3];
        foreach (var i in new[] { 0, 5, OnnxClassifier.MaxBatch - 1, OnnxClassifier.MaxBatch, many.Count - 1 })
        {
            onnx.Predict([many[i]], one);
            for (var c = 0; c < 3; c++) Assert.Equal(one[c], all[i * 3 + c], 5);
        }
    }

    [Fact]
    public void Pre_featurised_rows_give_the_probabilities_of_the_text_path_in_input_order()
    {
        var (dir, model) = TestModels.RandomModelDir(13);
        using var onnx = OnnxClassifier.Load(dir);
        // Lengths spread widely and shuffled, more rows than one batch and not a multiple of a Run: the rows are
        // reordered by length inside, so a wrong mapping back would swap whole rows.
        var rng = new Random(4);
        var texts = Enumerable.Range(0, OnnxClassifier.MaxBatch + OnnxClassifier.RunRows / 2 + 3)
            .Select(i => i % 17 == 0 ? "" : string.Join(' ', Enumerable.Range(0, rng.Next(1, 60)).Select(w => Texts[(i + w) % Texts.Length].Split(' ')[0] + w)))
            .ToList();
        var stride = onnx.Hasher.Options.MaxFeatures;
        var idx = new int[texts.Count * stride];
        var val = new float[texts.Count * stride];
        var counts = new int[texts.Count];
        for (var i = 0; i < texts.Count; i++) counts[i] = onnx.Hasher.Featurize(texts[i], idx.AsSpan(i * stride, stride), val.AsSpan(i * stride, stride));
        Assert.True(counts.Max() > 4 * counts.Where(c => c > 0).Min(), "the rows should differ widely in length");

        // A one-word post first: its Run is narrow, so the wide rows below must grow the buffers bound before.
        onnx.Predict(["a"], new float[3]);
        var fromFeatures = new float[texts.Count * 3];
        onnx.PredictFeatures(idx, val, counts, stride, fromFeatures);
        var fromText = new float[texts.Count * 3];
        onnx.Predict(texts, fromText);
        Span<float> expected = stackalloc float[3];
        for (var i = 0; i < texts.Count; i++)
        {
            model.Probabilities(idx.AsSpan(i * stride, counts[i]), val.AsSpan(i * stride, counts[i]), expected);
            for (var c = 0; c < 3; c++)
            {
                Assert.InRange(fromFeatures[i * 3 + c], expected[c] - 1e-5f, expected[c] + 1e-5f);
                Assert.Equal(fromText[i * 3 + c], fromFeatures[i * 3 + c], 6);
            }
        }
    }

    [Fact]
    public void Pre_featurised_rows_longer_than_their_stride_are_refused()
    {
        var (dir, _) = TestModels.RandomModelDir(17);
        using var onnx = OnnxClassifier.Load(dir);
        var probs = new float[6];
        var e = Assert.Throws<ArgumentException>(() => onnx.PredictFeatures(new int[30], new float[30], [3, 11], 10, probs));
        Assert.Contains("row 1 has 11 features", e.Message);
        Assert.Throws<ArgumentException>(() => onnx.PredictFeatures(new int[15], new float[15], [3, 9], 10, probs));
        Assert.Throws<ArgumentException>(() => onnx.PredictFeatures(new int[20], new float[20], [3, 9], 10, new float[5]));
    }

    [Fact]
    public void A_disposed_classifier_refuses_to_predict_instead_of_touching_freed_native_memory()
    {
        var (dir, _) = TestModels.RandomModelDir(19);
        var onnx = OnnxClassifier.Load(dir);
        var probs = new float[Texts.Length * 3];
        onnx.Predict(Texts, probs);
        onnx.Dispose();
        onnx.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => onnx.Predict(Texts, probs));
    }

    [Fact]
    public void Concurrent_predictions_are_consistent()
    {
        var (dir, _) = TestModels.RandomModelDir(11);
        using var onnx = OnnxClassifier.Load(dir);
        var reference = new float[Texts.Length * 3];
        onnx.Predict(Texts, reference);
        Parallel.For(0, 16, _ =>
        {
            var mine = new float[Texts.Length * 3];
            onnx.Predict(Texts, mine);
            Assert.Equal(reference, mine);
        });
    }

    [Fact]
    public void Reader_recovers_the_weights_written()
    {
        var (dir, model) = TestModels.RandomModelDir(5);
        var back = OnnxLinearModelReader.TryRead(Path.Combine(dir, "model.onnx"));
        Assert.NotNull(back);
        Assert.Equal(model.Dimension, back.Dimension);
        Assert.Equal(model.Weights, back.Weights);
        Assert.Equal(model.Bias, back.Bias);
    }

    [Fact]
    public void Model_with_other_featuriser_parameters_is_refused()
    {
        var (dir, _) = TestModels.RandomModelDir(1);
        var path = Path.Combine(dir, "model.json");
        var manifest = ModelManifest.Load(path);
        manifest.Featurizer = manifest.Featurizer with { Algorithm = "some-other-hash" };
        manifest.Save(path);
        Assert.Contains("algorithm", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(dir)).Message, StringComparison.Ordinal);

        // A known algorithm with another algorithm's hash function is not a manifest this code wrote.
        manifest.Featurizer = FeaturizerSpec.From(TestModels.SmallFeatures) with { Algorithm = FeaturizerOptions.AlgorithmV2 };
        manifest.Save(path);
        Assert.Contains("hash function", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(dir)).Message, StringComparison.Ordinal);

        manifest.Featurizer = FeaturizerSpec.From(TestModels.SmallFeatures) with { Fingerprint = "0000000000000000" };
        manifest.Save(path);
        Assert.Contains("fingerprint", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(dir)).Message, StringComparison.Ordinal);

        manifest.Featurizer = FeaturizerSpec.From(TestModels.SmallFeatures) with { Normalization = ["Nfkc", "Transliterate"] };
        manifest.Save(path);
        Assert.Contains("normalisation", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(dir)).Message, StringComparison.Ordinal);

        // A dimension that differs from the weights is caught too (the fingerprint is recomputed with it, so set it to match).
        var wrongDim = TestModels.SmallFeatures with { Dimension = 1 << 13 };
        manifest.Featurizer = FeaturizerSpec.From(wrongDim);
        manifest.Save(path);
        Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(dir));
    }

    [Fact]
    public void Shipped_default_model_loads_and_its_manifest_names_inputs_and_licences()
    {
        using var onnx = OnnxClassifier.Load(TestModels.ShippedModelDir);
        Assert.NotNull(onnx.Weights);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestModels.ShippedModelDir, "model.json"))).RootElement;
        Assert.Equal("indices", json.GetProperty("inputs")[0].GetProperty("name").GetString());
        Assert.Equal("values", json.GetProperty("inputs")[1].GetProperty("name").GetString());
        foreach (var d in json.GetProperty("training_data").EnumerateArray())
            Assert.Equal("MIT", d.GetProperty("licence").GetString());
        Assert.True(new FileInfo(Path.Combine(TestModels.ShippedModelDir, "model.onnx")).Length < 20 * 1024 * 1024);
        foreach (var f in new[] { "model-card.md", "metrics.json" }) Assert.True(File.Exists(Path.Combine(TestModels.ShippedModelDir, f)), f);
    }
}
