using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Benchmarks.Classify;

/// <summary>
/// The default model (<c>models/default</c>) over simulator post texts in memory, single thread: ONNX Runtime in
/// batches of <c>OnnxClassifier.MaxBatch</c> (featurise + Run), against the same linear model evaluated in
/// plain C# (featurise + sparse dot product + softmax, no ONNX), and the whole classify stage
/// (<c>PostClassifier.ClassifyBatch</c>: model + lexicons + explanations). Per post.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcessConfig))]
public class ClassifyBenchmarks
{
    public const int Posts = 2_048;
    private OnnxClassifier _model = null!;
    private PostClassifier _classifier = null!;
    private LinearModel _weights = null!;
    private List<string> _texts = [];
    private List<PostEnvelope> _envelopes = [];
    private float[] _probs = [];
    private int[] _idx = [];
    private float[] _val = [];
    private int[] _allIdx = [];
    private float[] _allVal = [];
    private int[] _allCounts = [];

    [GlobalSetup]
    public void Setup()
    {
        _classifier = PostClassifier.Load(RepoPaths.DefaultModel, RepoPaths.Lexicons);
        _model = _classifier.Model;
        _weights = _model.Weights ?? throw new InvalidOperationException("the default model has no linear weights to compare with");
        var decoder = new PostDecoder();
        foreach (var m in SimulatedStream.Messages(Posts))
            if (decoder.TryDecode(m, out var p, out _))
            {
                _texts.Add(p!.Text);
                _envelopes.Add(new PostEnvelope { Post = p, Position = new SourcePosition("bench", _envelopes.Count) });
            }
        _probs = new float[_texts.Count * _model.Classes];
        _idx = new int[_model.Hasher.Options.MaxFeatures];
        _val = new float[_model.Hasher.Options.MaxFeatures];
        var width = _model.Hasher.Options.MaxFeatures;
        _allIdx = new int[_texts.Count * width];
        _allVal = new float[_texts.Count * width];
        _allCounts = new int[_texts.Count];
        for (var i = 0; i < _texts.Count; i++)
            _allCounts[i] = _model.Hasher.Featurize(_texts[i], _allIdx.AsSpan(i * width, width), _allVal.AsSpan(i * width, width));
        Console.WriteLine($"// features per post: mean {_allCounts.Average():F1}, max {_allCounts.Max()}; rows per ONNX Run {OnnxClassifier.RunRows}");
        Console.WriteLine($"// {_texts.Count} texts, mean {_texts.Average(t => t.Length):F0} chars; model {_model.Manifest.Id}, dimension {_weights.Dimension}");
    }

    [GlobalCleanup]
    public void Cleanup() => _classifier.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Posts, Description = "plain C# linear model (featurise+dot+softmax)")]
    public float PlainLinear()
    {
        var c = _weights.Classes;
        var s = 0f;
        for (var i = 0; i < _texts.Count; i++)
        {
            var k = _model.Hasher.Featurize(_texts[i], _idx, _val);
            var row = _probs.AsSpan(i * c, c);
            _weights.Probabilities(_idx.AsSpan(0, k), _val.AsSpan(0, k), row);
            s += row[0];
        }
        return s;
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "OnnxClassifier.Predict (batched 256)")]
    public float OnnxPredict()
    {
        _model.Predict(_texts, _probs);
        return _probs[0];
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "OnnxClassifier.PredictFeatures: ONNX inference only, pre-featurised, batches of 256")]
    public float OnnxInferenceOnly()
    {
        var width = _model.Hasher.Options.MaxFeatures;
        var c = _model.Classes;
        for (var start = 0; start < _allCounts.Length; start += OnnxClassifier.MaxBatch)
        {
            var n = Math.Min(OnnxClassifier.MaxBatch, _allCounts.Length - start);
            _model.PredictFeatures(_allIdx.AsSpan(start * width, n * width), _allVal.AsSpan(start * width, n * width),
                _allCounts.AsSpan(start, n), width, _probs.AsSpan(start * c, n * c));
        }
        return _probs[0];
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "PostClassifier.ClassifyBatch (model+lexicon+explain)")]
    public int ClassifyStage()
    {
        _classifier.ClassifyBatch(_envelopes);
        return _envelopes.Count(e => e.Decision!.IsFlagged);
    }
}
