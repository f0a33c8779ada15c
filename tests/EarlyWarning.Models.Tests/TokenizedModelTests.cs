using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Tests;
using static EarlyWarning.Models.Onnx.OnnxProto;

namespace EarlyWarning.Models.Tests;

public class TokenizedModelTests
{
    private static readonly string[] Vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "peace", "love", "hate", "war", "the", "and", "##s", "idiot"];

    // A tiny "transformer stand-in" over token ids: logits = Σ_t mask_t · Emb[ids_t]; output logits [N,3].
    private static float[] Embeddings()
    {
        var e = new float[Vocab.Length * 3];
        void Set(string tok, int cls, float v) => e[Array.IndexOf(Vocab, tok) * 3 + cls] = v;
        Set("peace", 0, 3); Set("love", 0, 3); Set("hate", 2, 3); Set("war", 2, 2.5f); Set("idiot", 1, 4); Set("##s", 1, 0.5f);
        Set("[UNK]", 1, 0.25f); Set("[CLS]", 0, 0.5f); Set("[PAD]", 2, 100); // [PAD] would dominate if padding leaked through the mask
        return e;
    }

    private static string BuildModelDir(string? tokenizerType = TokenizerSpec.WordPiece, bool writeVocab = true)
    {
        var dir = TestPaths.NewTempDir("ew-tok");
        var graph = Message(g =>
        {
            Field(g, 1, Node("gather", "Gather", ["Emb", "input_ids"], ["emb"], IntAttr("axis", 0)));
            Field(g, 1, Node("cast", "Cast", ["attention_mask"], ["maskf"], IntAttr("to", FloatType)));
            Field(g, 1, Node("unsq", "Unsqueeze", ["maskf", "axes2"], ["mask3"]));
            Field(g, 1, Node("mul", "Mul", ["emb", "mask3"], ["masked"]));
            Field(g, 1, Node("sum", "ReduceSum", ["masked", "axes1"], ["logits"], IntAttr("keepdims", 0)));
            String(g, 2, "tiny_token_model");
            Field(g, 5, FloatTensor("Emb", [Vocab.Length, 3], Embeddings()));
            Field(g, 5, Int64Tensor("axes2", [2]));
            Field(g, 5, Int64Tensor("axes1", [1]));
            Field(g, 11, ValueInfo("input_ids", Int64Type, [null, null], ["N", "T"]));
            Field(g, 11, ValueInfo("attention_mask", Int64Type, [null, null], ["N", "T"]));
            Field(g, 12, ValueInfo("logits", FloatType, [null, 3], ["N", null]));
        });
        using (var fs = File.Create(Path.Combine(dir, "model.onnx"))) WriteModel(fs, graph, "test", null);
        if (writeVocab) File.WriteAllLines(Path.Combine(dir, "vocab.txt"), Vocab);
        new ModelManifest
        {
            Name = "tiny-wordpiece",
            Version = "0.1",
            Kind = "onnx-token-ids",
            Tokenizer = new TokenizerSpec { Type = tokenizerType!, Vocab = "vocab.txt", MaxTokens = 16 },
            OutputKind = "logits",
            Inputs = [new TensorSpec("input_ids", "int64", ["N", "T"]), new TensorSpec("attention_mask", "int64", ["N", "T"])],
            Outputs = [new TensorSpec("logits", "float", ["N", 3])],
        }.Save(Path.Combine(dir, "model.json"));
        return dir;
    }

    [Fact]
    public void Plug_in_wordpiece_model_runs_through_the_serving_path_with_padding_masked()
    {
        var dir = BuildModelDir();
        using var model = OnnxClassifier.Load(dir);
        Assert.NotNull(model.Tokenized);
        Assert.Null(model.Weights);
        string[] texts = ["Peace and LOVE", "hate the war", "the idiots", "", "zzqx unknown words", string.Join(' ', Enumerable.Repeat("hate", 40))];
        var probs = new float[texts.Length * 3];
        model.Predict(texts, probs);

        var emb = Embeddings();
        for (var i = 0; i < texts.Length; i++)
        {
            var ids = model.Tokenized!.Encode(texts[i]);
            Assert.InRange(ids.Count, 0, 16);
            var logits = new float[3];
            foreach (var id in ids) for (var c = 0; c < 3; c++) logits[c] += emb[id * 3 + c];
            LinearModel.Softmax(logits);
            for (var c = 0; c < 3; c++) Assert.InRange(probs[i * 3 + c], logits[c] - 1e-5f, logits[c] + 1e-5f);
        }
        Assert.Contains(Array.IndexOf(Vocab, "##s"), model.Tokenized!.Encode("the idiots")); // WordPiece split idiot + ##s
        Assert.Contains(Array.IndexOf(Vocab, "[CLS]"), model.Tokenized.Encode("peace"));

        using var pc = new PostClassifier(model.Tokenized is null ? throw new InvalidOperationException() : OnnxClassifier.Load(dir), Lexicon.LoadDirectory(TestPaths.NewTempDir("ew-nolex")));
        var d = pc.ClassifyTexts(texts);
        Assert.Equal([Labels.None, Labels.Hate, Labels.Offensive], d.Take(3).Select(x => x.Label));
        Assert.Equal("tiny-wordpiece@0.1", d[0].Model);
        Assert.All(d, x => Assert.InRange(x.Scores.Sum(), 0.999f, 1.001f));
    }

    [Fact]
    public void Batches_over_the_run_size_match_single_rows()
    {
        using var model = OnnxClassifier.Load(BuildModelDir());
        var texts = Enumerable.Range(0, OnnxClassifier.MaxBatch + 9).Select(i => i % 3 == 0 ? "peace " + i : i % 3 == 1 ? "hate war war" : "the idiots and the love").ToList();
        var all = new float[texts.Count * 3];
        model.Predict(texts, all);
        var one = new float[3];
        foreach (var i in new[] { 0, 1, 2, OnnxClassifier.MaxBatch, texts.Count - 1 })
        {
            model.Predict([texts[i]], one);
            for (var c = 0; c < 3; c++) Assert.Equal(one[c], all[i * 3 + c], 5);
        }
    }

    [Fact]
    public void Unusable_tokenizer_manifests_are_refused_with_a_reason()
    {
        var e1 = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(BuildModelDir(writeVocab: false)));
        Assert.Contains("vocab not found", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(BuildModelDir(tokenizerType: "sentencepiece-v9")));
        Assert.Contains("unsupported tokenizer type", e2.Message, StringComparison.Ordinal);
    }
}
