using System.Diagnostics;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Models.Serving;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Benchmarks.Inputs;

/// <summary>
/// Benchmark inputs held in memory: the election-day simulator stream (seed 1) as raw JSON messages, and the same
/// posts decoded, pseudonymised, classified and text-enriched exactly as the pipeline hands them to the analysis
/// stages. Built once per process and shared by the benchmark classes.
/// </summary>
public static class SimulatedStream
{
    private static readonly Dictionary<int, byte[][]> MessageCache = [];
    private static readonly Dictionary<int, List<PostEnvelope>> EnvelopeCache = [];

    /// <summary>The first <paramref name="count"/> messages of a simulator stream scaled to <paramref name="count"/> posts.</summary>
    public static byte[][] Messages(int count)
    {
        lock (MessageCache)
        {
            if (MessageCache.TryGetValue(count, out var m)) return m;
            m = new Simulator("election-day", 1, count).Generate().Take(count).Select(p => p.Json).ToArray();
            MessageCache[count] = m;
            return m;
        }
    }

    /// <summary>The same posts as the analyse stage sees them: decoded, pseudonymised, classified, MinHash and tokens.</summary>
    public static List<PostEnvelope> Envelopes(int count, PostClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        lock (EnvelopeCache)
        {
            if (EnvelopeCache.TryGetValue(count, out var cached)) return cached;
            var decoder = new PostDecoder();
            var pseudo = new Pseudonymizer(new byte[32]);
            var list = new List<PostEnvelope>(count);
            var msgs = Messages(count);
            for (var i = 0; i < msgs.Length; i++)
            {
                if (!decoder.TryDecode(msgs[i], out var post, out var reason))
                    throw new InvalidDataException($"simulator message {i} did not decode: {reason}");
                post!.AuthorId = pseudo.Pseudonymize(post.AuthorId);
                if (post.Mentions.Count > 0) post.Mentions = post.Mentions.Select(pseudo.Pseudonymize).ToArray();
                list.Add(new PostEnvelope { Post = post, Position = new SourcePosition("bench", i + 1), ReadTimestamp = Stopwatch.GetTimestamp() });
            }
            for (var i = 0; i < list.Count; i += 512) classifier.ClassifyBatch(list.GetRange(i, Math.Min(512, list.Count - i)));
            Enrich(list);
            EnvelopeCache[count] = list;
            return list;
        }
    }

    /// <summary>MinHash, token hashes and (for flagged posts) token strings, as the pipeline's classify task adds them.</summary>
    private static void Enrich(List<PostEnvelope> list)
    {
        var normalizer = new TextNormalizer();
        var minHasher = new MinHasher();
        var norm = new char[4096];
        var hashes = new List<ulong>();
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in list)
        {
            var need = TextNormalizer.MaxOutputLength(e.Post.Text.Length);
            if (norm.Length < need) norm = new char[need];
            normalizer.Normalize(e.Post.Text, norm, out var n);
            var span = norm.AsSpan(0, n);
            var sig = new ulong[64];
            minHasher.Compute(span, sig);
            e.MinHash = sig;
            hashes.Clear();
            words.Clear();
            var flagged = e.Decision is { IsFlagged: true };
            foreach (var t in Tokenizer.Tokenize(span))
            {
                if (t.Kind is not (TokenKind.Word or TokenKind.Hashtag or TokenKind.Syllable) || t.Length < 3) continue;
                var w = span.Slice(t.Start, t.Length);
                hashes.Add(TokenHash.Of(w));
                if (flagged) words.Add(w.ToString());
            }
            e.TokenHashes = [.. hashes.Distinct().Order()];
            if (flagged) e.Tokens = [.. words];
        }
    }
}
