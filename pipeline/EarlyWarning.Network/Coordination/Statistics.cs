namespace EarlyWarning.Network.Coordination;

/// <summary>Poisson tail probabilities in log space (scores are -log10 p, capped).</summary>
internal static class Statistics
{
    public const double MaxScore = 300;

    /// <summary>-log10 P(X ≥ k) for X ~ Poisson(lambda).</summary>
    public static double PoissonTailScore(long k, double lambda)
    {
        if (k <= 0) return 0;
        lambda = Math.Max(lambda, 1e-9);
        if (k <= lambda) return 0;
        // Sum the pmf from k upward in log space; terms shrink geometrically once k > lambda.
        var logTerm = (k * Math.Log(lambda)) - lambda - LogFactorial(k);
        var logSum = logTerm;
        for (var i = k + 1; i < k + 10_000; i++)
        {
            logTerm += Math.Log(lambda / i);
            var next = LogAdd(logSum, logTerm);
            if (next - logSum < 1e-12) break;
            logSum = next;
        }
        var score = -logSum / Math.Log(10);
        return Math.Clamp(score, 0, MaxScore);
    }

    private static double LogAdd(double a, double b) => a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));

    public static double LogFactorial(long n)
    {
        if (n < 2) return 0;
        if (n < 256)
        {
            var s = 0.0;
            for (var i = 2; i <= n; i++) s += Math.Log(i);
            return s;
        }
        // Stirling's series: accurate to ~1e-10 for n ≥ 256.
        var x = (double)n;
        return (x * Math.Log(x)) - x + (0.5 * Math.Log(2 * Math.PI * x)) + (1 / (12 * x)) - (1 / (360 * x * x * x));
    }
}
