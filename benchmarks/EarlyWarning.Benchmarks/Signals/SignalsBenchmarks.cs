using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Signals.Engine;

namespace EarlyWarning.Benchmarks.Signals;

/// <summary>
/// The signals stage over a classified simulator stream in memory: <c>SignalEngine.Observe</c> per post with a
/// drain every 512 posts (as the pipeline's batches do), against a baseline that only counts posts into minute
/// buckets per country/region × target × label in a dictionary (the least any series engine must do).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcessConfig))]
public class SignalsBenchmarks
{
    public const int Posts = 20_000;
    private List<PostEnvelope> _envelopes = [];

    [GlobalSetup]
    public void Setup()
    {
        using var classifier = PostClassifier.Load(RepoPaths.DefaultModel, RepoPaths.Lexicons);
        _envelopes = SimulatedStream.Envelopes(Posts, classifier);
        Console.WriteLine($"// {_envelopes.Count} posts, {_envelopes.Count(e => e.Decision!.IsFlagged)} flagged, {_envelopes[0].Post.CreatedAt:u} .. {_envelopes[^1].Post.CreatedAt:u}");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Posts, Description = "dictionary minute counts (baseline)")]
    public int DictionaryCounts()
    {
        var counts = new Dictionary<(long, string?, string?, string?, string), int>();
        foreach (var e in _envelopes)
        {
            var key = (e.Post.CreatedAt.ToUnixTimeSeconds() / 60, e.Post.Country, e.Post.Region, e.Decision!.Target, e.Decision.Label);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts.Count;
    }

    [Benchmark(OperationsPerInvoke = Posts, Description = "SignalEngine.Observe + Drain/512")]
    public int Observe()
    {
        var engine = new SignalEngine(new SignalOptions());
        var alerts = new List<Alert>();
        var aggregates = new List<SeriesPoint>();
        for (var i = 0; i < _envelopes.Count; i++)
        {
            engine.Observe(_envelopes[i]);
            if ((i & 511) == 511) engine.Drain(alerts, aggregates);
        }
        engine.Flush();
        engine.Drain(alerts, aggregates);
        return alerts.Count + aggregates.Count;
    }
}
