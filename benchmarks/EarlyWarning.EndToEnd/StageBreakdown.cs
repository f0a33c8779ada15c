using System.Diagnostics;
using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.EndToEnd;

/// <summary>
/// Where the time goes: each stage's public API (as the pipeline calls it) timed alone, single-threaded, over N posts
/// held in memory. The slowest stage bounds the pipeline (one task per stage on 2 cores). With a warm-up of W posts
/// every stage first takes posts 1..W untimed, so stateful stages (network, signals, the store) are timed with their
/// windows as full as W posts make them: the network stage's first 200,000 posts of the 1M stream never fill its
/// 6-hour window, and its cost there understates the cost later in the stream.
/// </summary>
internal static class StageBreakdown
{
    public static async Task<List<string>> RunAsync(string file, int n, string workDir, int warm = 0)
    {
        var lines = new List<byte[]>(warm + n);
        foreach (var l in ReadLines(file))
        {
            if (lines.Count >= warm + n) break;
            lines.Add(l);
        }
        warm = Math.Min(warm, lines.Count);
        var rows = new List<(string Stage, double Seconds, long Alloc)>();
        var decoder = new PostDecoder();
        var envelopes = new List<PostEnvelope>(lines.Count);
        var from = 0; // the first measured envelope: posts before it are the warm-up
        void Decode(int first, int end)
        {
            for (var i = first; i < end; i++)
                if (decoder.TryDecode(lines[i], out var p, out _))
                    envelopes.Add(new PostEnvelope { Post = p!, Position = new SourcePosition("bench", i + 1), ReadTimestamp = Stopwatch.GetTimestamp() });
        }
        Decode(0, warm);
        from = envelopes.Count;
        Time("decode (PostDecoder.TryDecode)", () => Decode(warm, lines.Count));
        var pseudo = new Pseudonymizer(new byte[32]);
        var memo = new PseudonymMemo(pseudo);
        Stage("pseudonymise (RawSanitizer.Rewrite + ids, one HMAC per distinct id of a post)", (first, end) =>
        {
            for (var i = first; i < end; i++)
            {
                var e = envelopes[i];
                var post = e.Post;
                // As the decode stage does it: the decoded fields first, then the rewrite finds their ids in the memo.
                post.AuthorId = memo.Get(post.AuthorId);
                if (post.AuthorHandle is not null) post.AuthorHandle = memo.Get(post.AuthorHandle);
                if (post.Mentions.Count > 0) post.Mentions = post.Mentions.Select(memo.Get).ToArray();
                post.Raw = RawSanitizer.Rewrite(post.Raw.Span, memo);
                memo.Clear();
            }
        });
        using var classifier = PostClassifier.LoadDefault();
        const int batch = 512;
        var normalizedTexts = new string[envelopes.Count];
        Stage("classify (PostClassifier.ClassifyBatch, 512/batch: normalise once+featurise+ONNX+lexicon+explain)", (first, end) =>
        {
            var chunk = new List<PostEnvelope>(batch);
            var normalized = new string[batch];
            for (var i = first; i < end; i += batch)
            {
                chunk.Clear();
                for (var j = i; j < Math.Min(end, i + batch); j++) chunk.Add(envelopes[j]);
                classifier.ClassifyBatch(chunk, normalized);
                Array.Copy(normalized, 0, normalizedTexts, i, chunk.Count);
            }
        });
        Time("  of which ONNX model only (OnnxClassifier.Predict: featurise+Run)", () =>
        {
            var probs = new float[batch * classifier.Model.Classes];
            var texts = new List<string>(batch);
            for (var i = from; i < envelopes.Count; i += batch)
            {
                texts.Clear();
                for (var j = i; j < Math.Min(envelopes.Count, i + batch); j++) texts.Add(envelopes[j].Post.Text);
                classifier.Model.Predict(texts, probs);
            }
        });
        Time("  of which lexicon match only (Lexicon.Match)", () =>
        {
            for (var i = from; i < envelopes.Count; i++) classifier.Lexicon.Match(envelopes[i].Post.Text);
        });
        var extras = new PostTextExtras();
        Stage("text extras (MinHash + token hashes from the classifier's normalised text, as the classify task does)", (first, end) =>
        {
            for (var i = first; i < end; i++)
                extras.Fill(envelopes[i], normalizedTexts[i], envelopes[i].Decision is { IsFlagged: true });
        });
        var network = new NetworkEngine(new NetworkOptions());
        var signalsOut = new List<Signal>();
        Stage("network (NetworkEngine.Observe + DrainSignals)", (first, end) =>
        {
            for (var i = first; i < end; i++) network.Observe(envelopes[i]);
            network.DrainSignals(signalsOut);
        });
        var signals = new SignalEngine(new SignalOptions());
        var alerts = new List<Alert>();
        var aggregates = new List<SeriesPoint>();
        Stage("signals (SignalEngine.Observe + Drain per 512)", (first, end) =>
        {
            for (var i = first; i < end; i++)
            {
                signals.Observe(envelopes[i]);
                if (i % batch == batch - 1) signals.Drain(alerts, aggregates);
            }
            signals.Drain(alerts, aggregates);
        });
        var db = Path.Combine(workDir, "breakdown-" + Guid.NewGuid().ToString("N")[..8] + ".db");
        await using (var store = new SqliteStore(db))
        {
            await store.InitializeAsync().ConfigureAwait(false);
            async Task Write(int first, int end)
            {
                for (var i = first; i < end; i += 5000)
                {
                    var sb = new StoreBatch();
                    for (var j = i; j < Math.Min(end, i + 5000); j++) sb.Posts.Add(envelopes[j]);
                    sb.Checkpoints["bench"] = Math.Min(end, i + 5000);
                    await store.WriteAsync(sb).ConfigureAwait(false);
                }
            }
            await Write(0, from).ConfigureAwait(false);
            var sw = Stopwatch.StartNew();
            var before = GC.GetTotalAllocatedBytes(true);
            await Write(from, envelopes.Count).ConfigureAwait(false);
            rows.Add(("store all posts (SqliteStore.WriteAsync, 5,000/transaction)", sw.Elapsed.TotalSeconds, GC.GetTotalAllocatedBytes(true) - before));
        }
        foreach (var f in Directory.GetFiles(workDir, Path.GetFileName(db) + "*")) File.Delete(f);

        var count = envelopes.Count - from;
        var result = new List<string>
        {
            Program.Inv($"{count:N0} posts decoded of {lines.Count - warm:N0} lines timed, after {from:N0} posts of warm-up; flagged {envelopes.Skip(from).Count(e => e.Decision?.IsFlagged == true):N0}"),
            "",
            "| stage | posts/s (1 thread) | µs/post | allocated B/post |",
            "|---|---:|---:|---:|",
        };
        foreach (var (stage, s, alloc) in rows)
            result.Add(Program.Inv($"| {stage} | {count / s:N0} | {s * 1e6 / count:F2} | {alloc / (double)count:N0} |"));
        var serial = rows.Where(r => !r.Stage.StartsWith("  ", StringComparison.Ordinal)).Sum(r => r.Seconds);
        result.Add(Program.Inv($"| sum of stages (one core doing everything) | {count / serial:N0} | {serial * 1e6 / count:F2} | |"));
        return result;

        // The warm-up posts untimed, then the measured ones timed.
        void Stage(string stage, Action<int, int> body)
        {
            body(0, from);
            Time(stage, () => body(from, envelopes.Count));
        }

        void Time(string stage, Action a)
        {
            var sw = Stopwatch.StartNew();
            var before = GC.GetTotalAllocatedBytes(true);
            a();
            rows.Add((stage, sw.Elapsed.TotalSeconds, GC.GetTotalAllocatedBytes(true) - before));
        }
    }

    private static IEnumerable<byte[]> ReadLines(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buf = new byte[1 << 20];
        var filled = 0;
        while (true)
        {
            if (filled == buf.Length) Array.Resize(ref buf, buf.Length * 2);
            var n = fs.Read(buf, filled, buf.Length - filled);
            var end = filled + n;
            var start = 0;
            for (int i; (i = Array.IndexOf(buf, (byte)'\n', start, end - start)) >= 0; start = i + 1)
                if (i > start) yield return buf.AsSpan(start, i - start).ToArray();
            if (n == 0) yield break;
            filled = end - start;
            Buffer.BlockCopy(buf, start, buf, 0, filled);
        }
    }
}
