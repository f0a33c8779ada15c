namespace EarlyWarning.Signals.Detection;

/// <summary>
/// Seasonal negative-binomial detector: the baseline learns hour of day and day of week (<see cref="SeasonalBaseline"/>)
/// and falls back to its EWMA level while the seasonal cells are young; the test is a negative-binomial upper tail
/// whose dispersion is estimated from the squared residuals (Poisson when the data are not over-dispersed).
/// An alarming value is not learnt, and after an alarm the detector stays quiet for <c>holdAfterAlarm</c> buckets
/// (one alarm per episode). This is the default detector of <c>detect</c>.
/// </summary>
public sealed class SeasonalDetector(SeasonalDetector.Options? options = null) : DetectorBase<SeasonalDetector.State>
{
    /// <summary>Tuning knobs; the defaults were chosen by a 36-point grid (threshold, hold, level alpha) on the shared NAB realTweets half only (5-minute buckets), so NAB scores on that half are in-sample.</summary>
    public sealed record Options
    {
        public double LevelAlpha { get; init; } = 0.03;
        public double CellAlphaMin { get; init; } = 0.05;
        /// <summary>Observations a seasonal cell needs before it is used (12 = one hour of 5-minute buckets).</summary>
        public int MinCellObs { get; init; } = 12;
        public double Threshold { get; init; } = 6;
        public double MinCount { get; init; } = 5;
        public double Floor { get; init; } = 0.5;
        public int Warmup { get; init; } = 288;
        public int HoldAfterAlarm { get; init; } = 288;
        /// <summary>Fixed negative-binomial size; null estimates it from the residuals.</summary>
        public double? Dispersion { get; init; }
        public double VarianceAlpha { get; init; } = 0.01;
    }

    /// <summary>Learnt state.</summary>
    public sealed class State : DetectorState
    {
        public SeasonalBaseline Baseline = new();
        public double ResidualVar;
        public int Hold;
    }

    private readonly Options _o = options ?? new Options();

    public override string Name => "seasonal_negbin";

    protected override DetectorResult Step(DateTimeOffset time, double value)
    {
        var b = S.Baseline;
        var expected = Math.Max(b.UpperExpected(time, _o.MinCellObs), _o.Floor);
        double score = 0;
        if (S.N >= _o.Warmup)
        {
            var r = _o.Dispersion ?? EstimateSize(expected);
            var k = (long)Math.Ceiling(value);
            score = double.IsPositiveInfinity(r) ? Tails.Score(Tails.PoissonLogUpper(k, expected)) : Tails.Score(Tails.NegBinLogUpper(k, expected, r));
        }
        var alarm = score >= _o.Threshold && value >= _o.MinCount && S.Hold == 0;
        if (S.Hold > 0) S.Hold--;
        if (alarm) S.Hold = _o.HoldAfterAlarm;
        var learnt = score >= _o.Threshold ? expected : value;
        var resid = learnt - expected;
        S.ResidualVar += (S.N == 0 ? 1 : _o.VarianceAlpha) * (resid * resid - S.ResidualVar);
        b.Learn(time, learnt, _o.LevelAlpha, _o.CellAlphaMin);
        return new DetectorResult(score, expected, alarm);
    }

    private double EstimateSize(double mu)
    {
        // Method of moments: var = mu + mu²/r.
        var excess = S.ResidualVar - mu;
        if (excess <= 1e-9 * Math.Max(1, mu)) return double.PositiveInfinity;
        return Math.Clamp(mu * mu / excess, 0.5, 1e6);
    }
}
