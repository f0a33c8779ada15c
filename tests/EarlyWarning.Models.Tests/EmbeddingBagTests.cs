using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Tests;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Tests;

public class EmbeddingBagTests
{
    private static readonly string[] Texts =
    [
        "the quick brown fox", "", "you are all wonderful people", "ဒီနေ့ မိုးရွာတယ်", "a", new string('x', 2000), "Habari 😀", "12345 !!!",
    ];

    private static EmbeddingBagModel RandomBag(int seed)
    {
        var rng = new Random(seed);
        var m = new EmbeddingBagModel(TestModels.SmallFeatures.Dimension, 8, 3);
        for (var i = 0; i < m.Embeddings.Length; i++) m.Embeddings[i] = (float)(rng.NextDouble() * 2 - 1);
        for (var i = 0; i < m.Output.Length; i++) m.Output[i] = (float)(rng.NextDouble() * 2 - 1);
        for (var i = 0; i < 3; i++) m.Bias[i] = (float)(rng.NextDouble() - 0.5);
        return m;
    }

    [Fact]
    public void Exported_embedding_bag_graph_matches_in_memory_model_and_its_linear_collapse()
    {
        var bag = RandomBag(5);
        var dir = TestPaths.NewTempDir("ew-bag");
        OnnxEmbeddingBagWriter.Write(bag, Path.Combine(dir, "model.onnx"), "test");
        new ModelManifest { Name = "bag", Version = "0.1", Kind = TrainerOptions.EmbeddingBagKind, Featurizer = FeaturizerSpec.From(TestModels.SmallFeatures) }
            .Save(Path.Combine(dir, "model.json"));
        using var onnx = OnnxClassifier.Load(dir);
        var probs = new float[Texts.Length * 3];
        onnx.Predict(Texts, probs);
        var linear = bag.ToLinear();
        Assert.NotNull(onnx.Weights); // the reader collapsed E·W2 for explanations
        var hasher = new FeatureHasher(TestModels.SmallFeatures);
        var idx = new int[256];
        var val = new float[256];
        var hidden = new float[8];
        var expected = new float[3];
        var viaLinear = new float[3];
        for (var i = 0; i < Texts.Length; i++)
        {
            var n = hasher.Featurize(Texts[i], idx, val);
            bag.Hidden(idx.AsSpan(0, n), val.AsSpan(0, n), hidden);
            bag.LogitsFromHidden(hidden, expected);
            LinearModel.Softmax(expected);
            linear.Probabilities(idx.AsSpan(0, n), val.AsSpan(0, n), viaLinear);
            onnx.Weights!.Probabilities(idx.AsSpan(0, n), val.AsSpan(0, n), hidden.AsSpan(0, 3));
            for (var c = 0; c < 3; c++)
            {
                Assert.InRange(probs[i * 3 + c], expected[c] - 1e-4f, expected[c] + 1e-4f);
                Assert.InRange(viaLinear[c], expected[c] - 1e-4f, expected[c] + 1e-4f);
                Assert.InRange(hidden[c], expected[c] - 1e-4f, expected[c] + 1e-4f);
            }
        }
    }

    [Fact]
    public void Trainer_learns_a_separable_synthetic_task_deterministically()
    {
        var rng = new Random(3);
        var examples = new List<LabeledExample>();
        string[] words = ["sunshine", "nitwit", "blorgs"];
        for (var i = 0; i < 600; i++)
            examples.Add(new LabeledExample($"{words[i % 3]} number {rng.Next(1000)} today", Labels.All[i % 3]));
        var hasher = new FeatureHasher(TestModels.SmallFeatures);
        var data = SparseDataset.Featurize(examples, hasher);
        var opts = new EmbeddingBagOptions { EmbeddingDim = 8, Epochs = 5, LearningRate = 0.3f };
        var a = EmbeddingBagTrainer.Train(data, TestModels.SmallFeatures.Dimension, 3, opts, new TrainerOptions());
        var b = EmbeddingBagTrainer.Train(data, TestModels.SmallFeatures.Dimension, 3, opts, new TrainerOptions());
        Assert.Equal(a.Embeddings, b.Embeddings);
        Assert.Equal(a.Output, b.Output);
        var probs = TrainingPipeline.PredictProbabilities(a.ToLinear(), data);
        var pred = TrainingPipeline.Decide(probs, [0, 0, 0]);
        var accuracy = pred.Where((p, i) => p == examples[i].LabelIndex).Count() / (double)pred.Length;
        Assert.True(accuracy > 0.98, $"accuracy {accuracy}");
    }

    [Fact]
    public void Train_pipeline_exports_embedding_bag_through_the_train_command()
    {
        var dir = TestPaths.NewTempDir();
        var csv = Path.Combine(dir, "train.csv");
        var rng = new Random(2);
        using (var w = new StreamWriter(csv))
        {
            w.WriteLine("text,label");
            for (var i = 0; i < 600; i++)
                w.WriteLine($"{(i % 3 == 0 ? "sunshine" : i % 3 == 1 ? "nitwit" : "blorgs")} number {rng.Next(1000)},{Labels.All[i % 3]}");
        }
        var outDir = Path.Combine(dir, "bag");
        var trainer = new TrainerOptions { Model = TrainerOptions.EmbeddingBagKind, EmbeddingBag = new EmbeddingBagOptions { EmbeddingDim = 8, Epochs = 5 } };
        Assert.Equal(0, Cli.TrainCommand.Run([csv], outDir, new StringWriter(), trainer, TestModels.SmallFeatures, "bag", "0.1"));
        var manifest = ModelManifest.Load(Path.Combine(outDir, "model.json"));
        Assert.Equal(TrainerOptions.EmbeddingBagKind, manifest.Kind);
        var o = new StringWriter();
        Assert.Equal(0, Cli.EvaluateCommand.Run(outDir, csv, true, o));
        Assert.True(System.Text.Json.JsonDocument.Parse(o.ToString()).RootElement.GetProperty("accuracy").GetDouble() > 0.95);
        Assert.True(File.Exists(Path.Combine(outDir, "pr-curves.svg")));
    }
}
