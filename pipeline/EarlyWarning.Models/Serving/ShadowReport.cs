namespace EarlyWarning.Models.Serving;

/// <summary>
/// What a shadow model did on the posts the serving model classified: how many it scored, how often its label differed
/// (after the same lexicon rule), the label pairs (<c>served→shadow</c>) and the first post ids of each pair.
/// A snapshot: later batches do not change it.
/// </summary>
public sealed record ShadowReport
{
    public required string ServedModel { get; init; }
    public required string ShadowModel { get; init; }
    public long Compared { get; init; }
    public long Disagreements { get; init; }
    /// <summary>Disagreement counts by "served_label->shadow_label".</summary>
    public required IReadOnlyDictionary<string, long> ByLabelPair { get; init; }
    /// <summary>Up to <see cref="ShadowRecorder.ExamplesPerPair"/> post ids per label pair, in the order seen.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Examples { get; init; }
    /// <summary>Mean absolute difference of the hate score over compared posts.</summary>
    public double MeanHateScoreDelta { get; init; }
    public double AgreementRate => Compared == 0 ? 1 : 1 - (double)Disagreements / Compared;
}

/// <summary>Accumulates shadow comparisons; thread-safe (one lock per batch).</summary>
public sealed class ShadowRecorder
{
    /// <summary>Example post ids kept per label pair.</summary>
    public const int ExamplesPerPair = 20;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _pairs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _examples = new(StringComparer.Ordinal);
    private long _compared, _disagreements;
    private double _hateDelta;

    public ShadowRecorder(string servedModel, string shadowModel)
    {
        ServedModel = servedModel;
        ShadowModel = shadowModel;
    }

    public string ServedModel { get; }
    public string ShadowModel { get; }

    /// <summary>Records one batch of (post id, served label, shadow label, |hate score difference|).</summary>
    public void Record(IReadOnlyList<(string PostId, string Served, string Shadow, float HateDelta)> batch)
    {
        lock (_lock)
        {
            foreach (var (id, served, shadow, delta) in batch)
            {
                _compared++;
                _hateDelta += delta;
                if (served == shadow) continue;
                _disagreements++;
                var key = served + "->" + shadow;
                _pairs[key] = _pairs.GetValueOrDefault(key) + 1;
                if (!_examples.TryGetValue(key, out var list)) _examples[key] = list = [];
                if (list.Count < ExamplesPerPair) list.Add(id);
            }
        }
    }

    /// <summary>A consistent snapshot of everything recorded so far.</summary>
    public ShadowReport Snapshot()
    {
        lock (_lock)
        {
            return new ShadowReport
            {
                ServedModel = ServedModel,
                ShadowModel = ShadowModel,
                Compared = _compared,
                Disagreements = _disagreements,
                ByLabelPair = new SortedDictionary<string, long>(_pairs, StringComparer.Ordinal),
                Examples = new SortedDictionary<string, IReadOnlyList<string>>(_examples.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.ToArray()), StringComparer.Ordinal),
                MeanHateScoreDelta = _compared == 0 ? 0 : Math.Round(_hateDelta / _compared, 6),
            };
        }
    }
}
