namespace EarlyWarning.Signals.Detection;

/// <summary>
/// Count CUSUM: accumulates the log-likelihood ratio of an out-of-control mean (<c>shift × baseline</c>) against the
/// in-control baseline and alarms when the sum reaches <c>h</c>, then restarts. The Poisson form suits counts whose
/// variance equals their mean; the negative-binomial form (size r) tolerates over-dispersed counts.
/// The baseline is an EWMA of the values that did not alarm.
/// </summary>
public sealed class CusumDetector(bool negativeBinomial = false, double shift = 2, double h = 6, double alpha = 0.02,
    double dispersion = 10, double floor = 0.5, double minCount = 5, int warmup = 10)
    : DetectorBase<CusumDetector.State>
{
    /// <summary>Learnt state.</summary>
    public sealed class State : DetectorState
    {
        public double Mean;
        public double Sum;
    }

    public override string Name => negativeBinomial ? "cusum_negbin" : "cusum_poisson";

    protected override DetectorResult Step(DateTimeOffset time, double value)
    {
        var mu0 = Math.Max(S.Mean, floor);
        if (S.N < warmup)
        {
            S.Mean += 1.0 / (S.N + 1) * (value - S.Mean);
            return new DetectorResult(0, mu0, false);
        }
        var mu1 = mu0 * shift;
        double llr;
        if (negativeBinomial)
        {
            var r = dispersion;
            double q0 = mu0 / (r + mu0), q1 = mu1 / (r + mu1);
            llr = value * Math.Log(q1 / q0) + r * Math.Log((1 - q1) / (1 - q0));
        }
        else
        {
            llr = value * Math.Log(mu1 / mu0) - (mu1 - mu0);
        }
        S.Sum = Math.Max(0, S.Sum + llr);
        var score = S.Sum;
        var alarm = S.Sum >= h && value >= minCount;
        if (alarm) S.Sum = 0;
        if (!alarm) S.Mean += alpha * (value - S.Mean);
        return new DetectorResult(score, mu0, alarm);
    }
}
