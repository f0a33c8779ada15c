using System.Diagnostics;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;
using EarlyWarning.Tests;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Benchmarks.Tests;

/// <summary>Simulator messages and the default classifier, built once for all hot-path tests.</summary>
public sealed class HotPathFixture : IDisposable
{
    /// <summary>Posts in the input: enough for a steady state, small enough for a quick CI run.</summary>
    public const int Posts = 6_000;

    public HotPathFixture()
    {
        Messages = new Simulator("election-day", 1, Posts).Generate().Select(p => p.Json).ToArray();
        Classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
        var decoder = new PostDecoder();
        foreach (var m in Messages)
        {
            if (!decoder.TryDecode(m, out var p, out var reason)) throw new InvalidDataException("simulator message did not decode: " + reason);
            Envelopes.Add(new PostEnvelope { Post = p!, Position = new SourcePosition("test", Envelopes.Count + 1), ReadTimestamp = Stopwatch.GetTimestamp() });
        }
        for (var i = 0; i < Envelopes.Count; i += 512) Classifier.ClassifyBatch(Envelopes.GetRange(i, Math.Min(512, Envelopes.Count - i)));
        var normalizer = new TextNormalizer();
        var minHasher = new MinHasher();
        var norm = new char[4096];
        foreach (var e in Envelopes)
        {
            var need = TextNormalizer.MaxOutputLength(e.Post.Text.Length);
            if (norm.Length < need) norm = new char[need];
            normalizer.Normalize(e.Post.Text, norm, out var n);
            var sig = new ulong[64];
            minHasher.Compute(norm.AsSpan(0, n), sig);
            e.MinHash = sig;
            // As the pipeline's classify task: distinct token hashes of every post, token strings of flagged ones.
            var hashes = new List<ulong>();
            var words = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in Tokenizer.Tokenize(norm.AsSpan(0, n)))
            {
                if (t.Kind is not (TokenKind.Word or TokenKind.Hashtag or TokenKind.Syllable) || t.Length < 3) continue;
                hashes.Add(TokenHash.Of(norm.AsSpan(t.Start, t.Length)));
                words.Add(norm.AsSpan(t.Start, t.Length).ToString());
            }
            e.TokenHashes = [.. hashes.Distinct().Order()];
            if (e.Decision is { IsFlagged: true }) e.Tokens = [.. words];
        }
    }

    public byte[][] Messages { get; }
    public PostClassifier Classifier { get; }
    public List<PostEnvelope> Envelopes { get; } = [];
    public List<string> Texts => [.. Envelopes.Select(e => e.Post.Text)];

    public void Dispose() => Classifier.Dispose();
}
