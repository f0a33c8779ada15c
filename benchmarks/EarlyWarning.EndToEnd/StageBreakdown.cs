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
/// Where the time goes: each stage's public API (as the pipeline calls it) timed alone, single-threaded, over the
/// first N posts held in memory. The slowest stage bounds the pipeline (one task per stage on 2 cores).
/// </summary>
internal static class StageBreakdown
{
    public static async Task<List<string>> RunAsync(string file, int n, string workDir)
    {
        var lines = new List<byte[]>(n);
        foreach (var l in ReadLines(file))
        {
            if (lines.Count >= n) break;
            lines.Add(l);
        }
        var rows = new List<(string Stage, double Seconds, long Alloc)>();
        var decoder = new PostDecoder();
        var envelopes = new List<PostEnvelope>(lines.Count);
        Time("decode (PostDecoder.TryDecode)", () =>
        {
            for (var i = 0; i < lines.Count; i++)
                if (decoder.TryDecode(lines[i], out var p, out _))
                    envelopes.Add(new PostEnvelope { Post = p!, Position = new SourcePosition("bench", i + 1), ReadTimestamp = Stopwatch.GetTimestamp() });
        });
        var pseudo = new Pseudonymizer(new byte[32]);
        var memo = new PseudonymMemo(pseudo);
        Time("pseudonymise (RawSanitizer.Rewrite + ids, one HMAC per distinct id of a post)", () =>
        {
            foreach (var e in envelopes)
            {
                var post = e.Post;
                post.Raw = RawSanitizer.Rewrite(post.Raw.Span, memo.Pseudonymize);
                post.AuthorId = memo.Get(post.AuthorId);
                if (post.AuthorHandle is not null) post.AuthorHandle = memo.Get(post.AuthorHandle);
                if (post.Mentions.Count > 0) post.Mentions = post.Mentions.Select(memo.Get).ToArray();
                memo.Clear();
            }
        });
        using var classifier = PostClassifier.LoadDefault();
        const int batch = 512;
        var normalizedTexts = new string[envelopes.Count];
        Time("classify (PostClassifier.ClassifyBatch, 512/batch: normalise once+featurise+ONNX+lexicon+explain)", () =>
        {
            var chunk = new List<PostEnvelope>(batch);
            var normalized = new string[batch];
            for (var i = 0; i < envelopes.Count; i += batch)
            {
                chunk.Clear();
                for (var j = i; j < Math.Min(envelopes.Count, i + batch); j++) chunk.Add(envelopes[j]);
                classifier.ClassifyBatch(chunk, normalized);
                Array.Copy(normalized, 0, normalizedTexts, i, chunk.Count);
            }
        });
        Time("  of which ONNX model only (OnnxClassifier.Predict: featurise+Run)", () =>
        {
            var probs = new float[batch * classifier.Model.Classes];
            var texts = new List<string>(batch);
            for (var i = 0; i < envelopes.Count; i += batch)
            {
                texts.Clear();
                for (var j = i; j < Math.Min(envelopes.Count, i + batch); j++) texts.Add(envelopes[j].Post.Text);
                classifier.Model.Predict(texts, probs);
            }
        });
        Time("  of which lexicon match only (Lexicon.Match)", () =>
        {
            foreach (var e in envelopes) classifier.Lexicon.Match(e.Post.Text);
        });
        var extras = new PostTextExtras();
        Time("text extras (MinHash + token hashes from the classifier's normalised text, as the classify task does)", () =>
        {
            for (var i = 0; i < envelopes.Count; i++)
                extras.Fill(envelopes[i], normalizedTexts[i], envelopes[i].Decision is { IsFlagged: true });
        });
        var network = new NetworkEngine(new NetworkOptions());
        var signalsOut = new List<Signal>();
        Time("network (NetworkEngine.Observe + DrainSignals)", () =>
        {
            foreach (var e in envelopes) network.Observe(e);
            network.DrainSignals(signalsOut);
        });
        var signals = new SignalEngine(new SignalOptions());
        var alerts = new List<Alert>();
        var aggregates = new List<SeriesPoint>();
        Time("signals (SignalEngine.Observe + Drain per 512)", () =>
        {
            for (var i = 0; i < envelopes.Count; i++)
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
            var sw = Stopwatch.StartNew();
            var before = GC.GetTotalAllocatedBytes(true);
            for (var i = 0; i < envelopes.Count; i += 5000)
            {
                var sb = new StoreBatch();
                for (var j = i; j < Math.Min(envelopes.Count, i + 5000); j++) sb.Posts.Add(envelopes[j]);
                sb.Checkpoints["bench"] = Math.Min(envelopes.Count, i + 5000);
                await store.WriteAsync(sb).ConfigureAwait(false);
            }
            rows.Add(("store all posts (SqliteStore.WriteAsync, 5,000/transaction)", sw.Elapsed.TotalSeconds, GC.GetTotalAllocatedBytes(true) - before));
        }
        foreach (var f in Directory.GetFiles(workDir, Path.GetFileName(db) + "*")) File.Delete(f);

        var count = envelopes.Count;
        var result = new List<string>
        {
            Program.Inv($"{count:N0} posts decoded of {lines.Count:N0} lines; flagged {envelopes.Count(e => e.Decision?.IsFlagged == true):N0}"),
            "",
            "| stage | posts/s (1 thread) | µs/post | allocated B/post |",
            "|---|---:|---:|---:|",
        };
        foreach (var (stage, s, alloc) in rows)
            result.Add(Program.Inv($"| {stage} | {count / s:N0} | {s * 1e6 / count:F2} | {alloc / (double)count:N0} |"));
        var serial = rows.Where(r => !r.Stage.StartsWith("  ", StringComparison.Ordinal)).Sum(r => r.Seconds);
        result.Add(Program.Inv($"| sum of stages (one core doing everything) | {count / serial:N0} | {serial * 1e6 / count:F2} | |"));
        return result;

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
