using BenchmarkDotNet.Attributes;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Util;
using Microsoft.ML.Tokenizers;

namespace EarlyWarning.Benchmarks.Text;

/// <summary>
/// The text stage's hot path (default normalise + tokenise + featurise) against Microsoft.ML.Tokenizers
/// (Tiktoken cl100k EncodeToIds) and Lucene.Net's StandardAnalyzer on the same multilingual posts, fed from
/// memory. Each invocation processes the whole corpus; results are per post (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class TextBenchmarks
{
    private const int PerSet = 300;
    private string[] _posts = [];
    private FeatureHasher _hasher = null!;
    private TextNormalizer _normalizer = null!;
    private Microsoft.ML.Tokenizers.Tokenizer _tiktoken = null!;
    private Analyzer _lucene = null!;
    private readonly int[] _idx = new int[1024];
    private readonly float[] _val = new float[1024];
    private readonly char[] _norm = new char[TextNormalizer.MaxOutputLength(70_000)];

    /// <summary>Posts in the corpus (the OperationsPerInvoke of every benchmark).</summary>
    public const int Posts = 7 * PerSet;

    [GlobalSetup]
    public void Setup()
    {
        _posts = MultilingualCorpus.Load(PerSet);
        if (_posts.Length != Posts) throw new InvalidOperationException($"corpus has {_posts.Length} posts, expected {Posts}");
        _hasher = new FeatureHasher();
        _normalizer = _hasher.Normalizer;
        _tiktoken = TiktokenTokenizer.CreateForModel("gpt-4");
        _lucene = new StandardAnalyzer(LuceneVersion.LUCENE_48);
        Console.WriteLine($"// corpus: {_posts.Length} posts, {MultilingualCorpus.Utf8Bytes(_posts)} UTF-8 bytes");
    }

    [GlobalCleanup]
    public void Cleanup() => _lucene.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Posts, Description = "ML.Tokenizers cl100k EncodeToIds")]
    public int Tiktoken()
    {
        var n = 0;
        foreach (var p in _posts) n += _tiktoken.EncodeToIds(p).Count;
        return n;
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "Lucene.Net StandardAnalyzer")]
    public int Lucene()
    {
        var n = 0;
        foreach (var p in _posts)
        {
            using var ts = _lucene.GetTokenStream("text", p);
            var term = ts.AddAttribute<ICharTermAttribute>();
            ts.Reset();
            while (ts.IncrementToken()) n += term.Length;
            ts.End();
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "EarlyWarning normalise+tokenise+featurise (default)")]
    public int EarlyWarningFeaturize()
    {
        var n = 0;
        foreach (var p in _posts) n += _hasher.Featurize(p, _idx, _val);
        return n;
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "EarlyWarning normalise only (default steps)")]
    public int EarlyWarningNormalize()
    {
        var n = 0;
        foreach (var p in _posts)
        {
            _normalizer.Normalize(p, _norm, out var w);
            n += w;
        }
        return n;
    }
}
