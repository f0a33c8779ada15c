namespace EarlyWarning.Signals.Detection;

/// <summary>
/// Burst detector for newly emerging terms: the sum over the last <c>window</c> buckets against the rate of the
/// <c>lookback</c> buckets before them. Alarms only when the item was (nearly) absent before (prior sum at most
/// <c>maxPrior</c>), the window holds at least <c>minUses</c>, and the Poisson tail against the prior rate is tiny.
/// </summary>
public sealed class BurstDetector(int window = 60, int lookback = 360, double minUses = 15, double maxPrior = 2,
    double threshold = 6, double floorPerWindow = 0.5) : DetectorBase<BurstDetector.State>
{
    /// <summary>Learnt state: the last window + lookback values, oldest first.</summary>
    public sealed class State : DetectorState
    {
        public List<double> Values = [];
    }

    public override string Name => "burst";

    protected override DetectorResult Step(DateTimeOffset time, double value)
    {
        S.Values.Add(value);
        if (S.Values.Count > window + lookback) S.Values.RemoveAt(0);
        double inWindow = 0, prior = 0;
        var n = S.Values.Count;
        for (var i = 0; i < n; i++)
        {
            if (i >= n - window) inWindow += S.Values[i];
            else prior += S.Values[i];
        }
        var priorBuckets = Math.Max(0, n - window);
        var expected = priorBuckets == 0 ? floorPerWindow : Math.Max(prior / priorBuckets * window, floorPerWindow);
        var warm = S.N + 1 >= window + lookback / 2;
        var score = warm ? Tails.Score(Tails.PoissonLogUpper((long)Math.Ceiling(inWindow), expected)) : 0;
        var alarm = warm && inWindow >= minUses && prior <= maxPrior && score >= threshold;
        return new DetectorResult(score, expected, alarm);
    }
}
