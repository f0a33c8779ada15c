namespace EarlyWarning.Signals.Detection;

/// <summary>
/// Tail probabilities of count distributions, computed in log space so that very small p-values stay exact enough
/// to rank (scores are <c>-log10 p</c>, capped at <see cref="MaxScore"/>).
/// </summary>
public static class Tails
{
    /// <summary>Largest score reported; a p-value below 1e-50 is "certain" for every use here.</summary>
    public const double MaxScore = 50;

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7; about 15 significant digits).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        var a = Lanczos[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++) a += Lanczos[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    /// <summary>ln P(X = k) for X ~ Poisson(mu).</summary>
    public static double PoissonLogPmf(long k, double mu) =>
        k < 0 ? double.NegativeInfinity : mu <= 0 ? (k == 0 ? 0 : double.NegativeInfinity) : k * Math.Log(mu) - mu - LogGamma(k + 1.0);

    /// <summary>ln P(X ≥ k) for X ~ Poisson(mu).</summary>
    public static double PoissonLogUpper(long k, double mu)
    {
        if (k <= 0) return 0;
        if (mu <= 0) return double.NegativeInfinity;
        if (k > mu)
        {
            // Sum the decreasing terms from k upward relative to the first one.
            double s = 1, r = 1;
            for (var j = k; j < k + 100_000; j++)
            {
                r *= mu / (j + 1);
                s += r;
                if (r < 1e-17 * s) break;
            }
            return PoissonLogPmf(k, mu) + Math.Log(s);
        }
        return Log1mExp(PoissonLogLower(k - 1, mu));
    }

    /// <summary>ln P(X ≤ k) for X ~ Poisson(mu).</summary>
    public static double PoissonLogLower(long k, double mu)
    {
        if (k < 0) return double.NegativeInfinity;
        if (mu <= 0) return 0;
        if (k < mu)
        {
            double s = 1, r = 1;
            for (var j = k; j > 0; j--)
            {
                r *= j / mu;
                s += r;
                if (r < 1e-17 * s) break;
            }
            return PoissonLogPmf(k, mu) + Math.Log(s);
        }
        return Log1mExp(PoissonLogUpper(k + 1, mu));
    }

    /// <summary>ln P(X = k) for a negative binomial with mean mu and size (dispersion) r: variance mu + mu²/r.</summary>
    public static double NegBinLogPmf(long k, double mu, double r)
    {
        if (k < 0) return double.NegativeInfinity;
        if (mu <= 0) return k == 0 ? 0 : double.NegativeInfinity;
        var lp = Math.Log(r / (r + mu));
        var lq = Math.Log(mu / (r + mu));
        return LogGamma(k + r) - LogGamma(r) - LogGamma(k + 1.0) + r * lp + k * lq;
    }

    /// <summary>ln P(X ≥ k) for a negative binomial with mean mu and size r.</summary>
    public static double NegBinLogUpper(long k, double mu, double r)
    {
        if (k <= 0) return 0;
        if (mu <= 0) return double.NegativeInfinity;
        var q = mu / (r + mu);
        var mode = r > 1 ? (r - 1) * q / (1 - q) : 0;
        if (k > mode)
        {
            double s = 1, t = 1;
            for (var j = k; j < k + 1_000_000; j++)
            {
                t *= (j + r) / (j + 1) * q;
                s += t;
                if (t < 1e-17 * s) break;
            }
            return NegBinLogPmf(k, mu, r) + Math.Log(s);
        }
        return Log1mExp(NegBinLogLower(k - 1, mu, r));
    }

    /// <summary>ln P(X ≤ k) for a negative binomial with mean mu and size r.</summary>
    public static double NegBinLogLower(long k, double mu, double r)
    {
        if (k < 0) return double.NegativeInfinity;
        if (mu <= 0) return 0;
        var q = mu / (r + mu);
        var mode = r > 1 ? (r - 1) * q / (1 - q) : 0;
        if (k > mode) return Log1mExp(NegBinLogUpper(k + 1, mu, r));
        double s = 1, t = 1;
        for (var j = k; j > 0; j--)
        {
            // pmf(j-1)/pmf(j) = j / ((j - 1 + r) q)
            t *= j / ((j - 1 + r) * q);
            s += t;
            if (t < 1e-17 * s) break;
        }
        var v = NegBinLogPmf(k, mu, r) + Math.Log(s);
        return Math.Min(0, v);
    }

    /// <summary>Converts a natural-log probability to a score <c>-log10 p</c> in [0, MaxScore].</summary>
    public static double Score(double logP) =>
        double.IsNaN(logP) ? 0 : Math.Clamp(-logP / Math.Log(10), 0, MaxScore);

    /// <summary>ln(1 - e^x) for x ≤ 0, accurate near both ends.</summary>
    private static double Log1mExp(double x)
    {
        if (x >= 0) return double.NegativeInfinity;
        if (x > -1e-5) return Math.Log(-(x + x * x / 2 + x * x * x / 6));
        return Math.Log(1 - Math.Exp(x));
    }
}
