namespace EarlyWarning.Signals.Detection;

/// <summary>
/// EWMA baseline with a Poisson upper-tail test: score = <c>-log10 P(X ≥ x | λ = EWMA)</c>. The simplest detector;
/// the fallback for a series with little history. An alarming value is not learnt (the baseline holds).
/// </summary>
public sealed class EwmaPoissonDetector(double alpha = 0.02, double threshold = 6, double minCount = 5, double floor = 0.5, int warmup = 10)
    : DetectorBase<EwmaPoissonDetector.State>
{
    /// <summary>Learnt state.</summary>
    public sealed class State : DetectorState
    {
        public double Mean;
    }

    public override string Name => "ewma_poisson";

    protected override DetectorResult Step(DateTimeOffset time, double value)
    {
        var expected = Math.Max(S.Mean, floor);
        var score = S.N < warmup ? 0 : Tails.Score(Tails.PoissonLogUpper((long)Math.Ceiling(value), expected));
        var alarm = score >= threshold && value >= minCount;
        var a = Math.Max(alpha, 1.0 / (S.N + 1));
        if (!alarm) S.Mean += a * (value - S.Mean);
        return new DetectorResult(score, expected, alarm);
    }
}
