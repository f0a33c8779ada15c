using System.Globalization;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Text.Features;
using Xunit.Abstractions;

namespace EarlyWarning.Benchmarks.Tests;

/// <summary>
/// Allocation budgets of the hot paths (benchmarks/allocation-budget.json), checked in every CI run: a short warm
/// run, then managed bytes allocated per operation on this thread, which must not exceed the budget.
/// </summary>
public sealed class HotPathAllocationTests(HotPathFixture f, ITestOutputHelper output) : IClassFixture<HotPathFixture>
{
    /// <summary>Every hot path this suite measures; each must have a budget, and every budget a measurement.</summary>
    public static readonly string[] HotPaths =
    [
        "Decode.PostDecoder.TryDecode", "Text.FeatureHasher.Featurize", "Classify.OnnxClassifier.Predict",
        "Classify.PostClassifier.ClassifyBatch", "Signals.SignalEngine.Observe", "Network.NetworkEngine.Observe",
        "Decode.RawSanitizer.Rewrite",
    ];

    private void Check(string name, double measured)
    {
        var budget = AllocationBudget.For(name);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {measured:F1} B/op (budget {budget:F0})"));
        Assert.True(measured <= budget, string.Create(CultureInfo.InvariantCulture,
            $"{name} allocates {measured:F1} B per operation, over its budget of {budget:F0} B in {AllocationBudget.FilePath}"));
    }

    [Fact]
    public void Budget_file_covers_exactly_the_measured_hot_paths()
    {
        Assert.Equal(HotPaths.Order(StringComparer.Ordinal), AllocationBudget.All.Keys.Order(StringComparer.Ordinal));
        Assert.All(AllocationBudget.All.Values, b => Assert.True(b >= 0));
    }

    [Fact]
    public void Decode_stays_within_budget()
    {
        var decoder = new PostDecoder();
        var ok = 0;
        Check("Decode.PostDecoder.TryDecode", AllocationMeter.BytesPerOperation(f.Messages.Length, () =>
        {
            ok = 0;
            foreach (var m in f.Messages)
                if (decoder.TryDecode(m, out _, out _)) ok++;
        }));
        Assert.Equal(f.Messages.Length, ok);
    }

    [Fact]
    public void Pseudonymising_rewrite_stays_within_budget()
    {
        // As the decode stage calls it: the decoded fields' ids pseudonymised first (one pseudonym per distinct id of a
        // post, in the memo), then the rewrite, which finds them in the memo; the pseudonyms and the rewritten array.
        var memo = new EarlyWarning.App.Pipeline.PseudonymMemo(new EarlyWarning.Core.Privacy.Pseudonymizer(new byte[32]));
        var decoder = new PostDecoder();
        var posts = f.Messages.Select(m => decoder.TryDecode(m, out var p, out _) ? p! : throw new InvalidDataException("undecodable")).ToArray();
        long bytes = 0;
        Check("Decode.RawSanitizer.Rewrite", AllocationMeter.BytesPerOperation(f.Messages.Length, () =>
        {
            bytes = 0;
            for (var i = 0; i < posts.Length; i++)
            {
                var p = posts[i];
                memo.Get(p.AuthorId);
                if (p.AuthorHandle is not null) memo.Get(p.AuthorHandle);
                foreach (var mention in p.Mentions) memo.Get(mention);
                bytes += EarlyWarning.App.Pipeline.RawSanitizer.Rewrite(f.Messages[i], memo).Length;
                memo.Clear();
            }
        }));
        Assert.True(bytes > 100L * f.Messages.Length);
    }

    [Fact]
    public void Normalise_and_featurise_allocate_nothing_per_post()
    {
        var hasher = f.Classifier.Model.Hasher;
        var idx = new int[hasher.Options.MaxFeatures];
        var val = new float[hasher.Options.MaxFeatures];
        var texts = f.Texts;
        long features = 0;
        Check("Text.FeatureHasher.Featurize", AllocationMeter.BytesPerOperation(texts.Count, () =>
        {
            features = 0;
            foreach (var t in texts) features += hasher.Featurize(t, idx, val);
        }));
        Assert.True(features > texts.Count, "the featuriser produced almost no features: the measurement would be meaningless");
        Assert.Equal(0, AllocationMeter.SharedPoolRentsPerRun(() => { foreach (var t in texts) hasher.Featurize(t, idx, val); }));
    }

    [Fact]
    public void Onnx_batch_prediction_stays_within_budget()
    {
        var texts = f.Texts;
        var probs = new float[texts.Count * f.Classifier.Model.Classes];
        Check("Classify.OnnxClassifier.Predict", AllocationMeter.BytesPerOperation(texts.Count, () => f.Classifier.Model.Predict(texts, probs)));
        // Zero bytes only while memory is plentiful unless the batch buffers avoid the trimming shared pool.
        Assert.Equal(0, AllocationMeter.SharedPoolRentsPerRun(() => f.Classifier.Model.Predict(texts, probs)));
        Assert.InRange(probs.AsSpan(0, f.Classifier.Model.Classes).ToArray().Sum(), 0.99f, 1.01f);
    }

    [Fact]
    public void Classify_stage_stays_within_budget()
    {
        var batches = Enumerable.Range(0, (f.Envelopes.Count + 511) / 512)
            .Select(i => f.Envelopes.GetRange(i * 512, Math.Min(512, f.Envelopes.Count - i * 512))).ToList();
        Check("Classify.PostClassifier.ClassifyBatch", AllocationMeter.BytesPerOperation(f.Envelopes.Count, () =>
        {
            foreach (var b in batches) f.Classifier.ClassifyBatch(b);
        }));
        Assert.All(f.Envelopes, e => Assert.NotNull(e.Decision));
    }

    [Fact]
    public void Signals_observe_stays_within_budget()
    {
        // A fresh engine per run: the per-post figure includes the series and buckets a stream creates as it goes.
        var alerts = new List<Alert>();
        var aggregates = new List<SeriesPoint>();
        SignalEngine? engine = null;
        Check("Signals.SignalEngine.Observe", AllocationMeter.BytesPerOperation(f.Envelopes.Count, () =>
        {
            engine = new SignalEngine(new SignalOptions());
            alerts.Clear();
            aggregates.Clear();
            for (var i = 0; i < f.Envelopes.Count; i++)
            {
                engine.Observe(f.Envelopes[i]);
                if ((i & 511) == 511) engine.Drain(alerts, aggregates);
            }
            engine.Drain(alerts, aggregates);
        }));
        Assert.True(engine!.Stats.PostsObserved >= f.Envelopes.Count, "the engine did not see the posts");
        Assert.NotEmpty(aggregates);
    }

    [Fact]
    public void Network_observe_stays_within_budget()
    {
        NetworkEngine? engine = null;
        Check("Network.NetworkEngine.Observe", AllocationMeter.BytesPerOperation(f.Envelopes.Count, () =>
        {
            engine = new NetworkEngine(new NetworkOptions());
            foreach (var e in f.Envelopes) engine.Observe(e);
        }));
        Assert.Equal(f.Envelopes.Count, engine!.Stats.Posts);
        Assert.True(engine.Graph.EdgeCount > 0, "no edges: the simulator stream should have replies, reposts and mentions");
    }
}
