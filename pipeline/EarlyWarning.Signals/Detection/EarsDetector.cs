namespace EarlyWarning.Signals.Detection;

/// <summary>The three EARS variants (CDC Early Aberration Reporting System).</summary>
public enum EarsVariant
{
    /// <summary>Baseline: the 7 buckets just before the current one; alarm at 3 standard deviations.</summary>
    C1,
    /// <summary>Baseline: 7 buckets ending 2 buckets before the current one (a guard band); alarm at 3.</summary>
    C2,
    /// <summary>Sum of the excesses over 1 of the last three C2 statistics; alarm at 2.</summary>
    C3,
}

/// <summary>
/// EARS C1/C2/C3-style detector: a standardised difference from the mean of a short moving baseline. Needs only 7
/// (C1) or 9 (C2, C3) buckets of history, so it works on young series. The standard deviation has a floor so a
/// flat baseline does not make every small change an alarm.
/// </summary>
public sealed class EarsDetector(EarsVariant variant = EarsVariant.C2, double? threshold = null, double minCount = 5)
    : DetectorBase<EarsDetector.State>
{
    private const int Baseline = 7;

    /// <summary>Learnt state: the last values (newest last) and the last C2 statistics for C3.</summary>
    public sealed class State : DetectorState
    {
        public List<double> Recent = [];
        public List<double> LastC2 = [];
    }

    private readonly double _threshold = threshold ?? (variant == EarsVariant.C3 ? 2 : 3);

    public override string Name => variant switch { EarsVariant.C1 => "ears_c1", EarsVariant.C2 => "ears_c2", _ => "ears_c3" };

    protected override DetectorResult Step(DateTimeOffset time, double value)
    {
        var lag = variant == EarsVariant.C1 ? 0 : 2;
        var need = Baseline + lag;
        double score = 0, expected = 0;
        var ready = S.Recent.Count >= need;
        if (ready)
        {
            var end = S.Recent.Count - lag;
            double sum = 0, sq = 0;
            for (var i = end - Baseline; i < end; i++) sum += S.Recent[i];
            expected = sum / Baseline;
            for (var i = end - Baseline; i < end; i++) sq += (S.Recent[i] - expected) * (S.Recent[i] - expected);
            var sd = Math.Max(Math.Sqrt(sq / (Baseline - 1)), Math.Max(0.5, 0.2 * expected));
            var stat = Math.Max(0, (value - expected) / sd);
            if (variant == EarsVariant.C3)
            {
                score = Math.Max(0, stat - 1);
                foreach (var c in S.LastC2) score += Math.Max(0, c - 1);
                S.LastC2.Add(stat);
                if (S.LastC2.Count > 2) S.LastC2.RemoveAt(0);
            }
            else
            {
                score = stat;
            }
        }
        S.Recent.Add(value);
        if (S.Recent.Count > need) S.Recent.RemoveAt(0);
        return new DetectorResult(score, expected, ready && score >= _threshold && value >= minCount);
    }
}
