using System.Globalization;

namespace EarlyWarning.Signals.Evaluation;

/// <summary>
/// NAB's <c>windowedGaussian</c> reference detector, re-implemented here only so that the NAB scorer can be checked
/// against a published, non-trivial detector (it is not one of the pipeline's detectors). Behaviour, as in NAB
/// (numenta/NAB, <c>nab/detectors/gaussian</c>) for the run that produced its published results:
/// <list type="bullet">
/// <item>The first record scores 0 (no statistics yet). Every later record scores <c>Φ((x − mean) / std)</c>, the
/// one-sided normal CDF (high values near 1, low values near 0) under the mean and population standard deviation of
/// the window as it was <em>before</em> the record (std 0 is replaced by 1e-6). NAB's current source reflects values
/// below the mean (two-sided, every score ≥ 0.5), but the results files behind the published scores hold one-sided
/// scores (e.g. 0.1305 for the 4th row of Twitter_volume_CRM); on the realTweets files both give the same detections,
/// since no count lies 7 standard deviations below its window mean.</item>
/// <item>The window grows by one record (statistics recomputed after each) until it holds 6,400 records; from then on
/// records are buffered and the window slides by 100 records at a time (statistics recomputed after each slide).</item>
/// <item>NAB wrote the scores to its results CSV in Python 2 <c>str()</c> form, i.e. to 12 significant digits, and
/// the scorer read them back: at the published threshold 1.0 a record is a detection when its score
/// <em>rounded to 12 significant digits</em> is ≥ 1, i.e. when <c>Φ ≥ 0.9999999999995</c> (z ≳ 7.13). Comparing the
/// unrounded double with 1.0 (z ≳ 8.3) detects fewer records and does not reproduce NAB's counts or scores.</item>
/// </list>
/// </summary>
public sealed class NabWindowedGaussianReference
{
    /// <summary>Records in the full window.</summary>
    public const int WindowSize = 6400;

    /// <summary>Records the full window slides by at a time.</summary>
    public const int StepSize = 100;

    /// <summary>The threshold NAB published for this detector (all profiles).</summary>
    public const double PublishedThreshold = 1.0;

    private readonly List<double> _window = new(WindowSize);
    private readonly List<double> _step = new(StepSize);
    private double[] _scratch = new double[WindowSize];
    private double _mean;
    private double _std = 1.0;

    /// <summary>Mean of the current window (0 before the first record).</summary>
    public double Mean => _mean;

    /// <summary>Population standard deviation of the current window (1 before the first record, 1e-6 if 0).</summary>
    public double Std => _std;

    /// <summary>Records in the current window.</summary>
    public int WindowCount => _window.Count;

    /// <summary>Scores <paramref name="value"/> against the window so far, then learns it.</summary>
    public double Observe(double value)
    {
        var score = _window.Count > 0 ? NormalCdf((value - _mean) / _std) : 0.0;
        if (_window.Count < WindowSize)
        {
            _window.Add(value);
            Update();
        }
        else
        {
            _step.Add(value);
            if (_step.Count == StepSize)
            {
                _window.RemoveRange(0, StepSize);
                _window.AddRange(_step);
                _step.Clear();
                Update();
            }
        }
        return score;
    }

    /// <summary>Scores a whole series.</summary>
    public static double[] ScoreSeries(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var d = new NabWindowedGaussianReference();
        var scores = new double[values.Count];
        for (var i = 0; i < scores.Length; i++) scores[i] = d.Observe(values[i]);
        return scores;
    }

    /// <summary>The score as NAB's results file held it: rounded to 12 significant digits (Python 2 <c>str(float)</c>).</summary>
    public static double AsPublished(double score) =>
        double.Parse(score.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>NAB's detection rule at the published threshold, applied to the score as published.</summary>
    public static bool IsDetection(double score) => AsPublished(score) >= PublishedThreshold;

    /// <summary>Standard normal CDF, <c>1 − erfc(z/√2)/2</c>.</summary>
    public static double NormalCdf(double z) => 1.0 - 0.5 * Erfc(z / Math.Sqrt(2.0));

    /// <summary>
    /// Complementary error function, about 15 significant digits: power series of erf for |x| &lt; 1.5, Laplace's
    /// continued fraction (evaluated backwards) above; erfc(−x) = 2 − erfc(x).
    /// </summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2.0 - Erfc(-x);
        if (x < 1.5)
        {
            // erf(x) = 2/√π · e^{−x²} · Σ_n (2x²)^n x / (1·3·…·(2n+1))
            double term = x, sum = x, x2 = 2.0 * x * x;
            for (var n = 1; n < 200; n++)
            {
                term *= x2 / (2 * n + 1);
                sum += term;
                if (term < 1e-18 * sum) break;
            }
            return 1.0 - 2.0 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
        }
        if (x > 27.3) return 0.0; // e^{−x²} underflows
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
        var f = x;
        for (var k = 160; k >= 1; k--) f = x + k / 2.0 / f;
        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * f);
    }

    private void Update()
    {
        var n = _window.Count;
        if (_scratch.Length < n) _scratch = new double[n];
        var a = _scratch.AsSpan(0, n);
        _window.CopyTo(_scratch);
        _mean = PairwiseSum(a) / n;
        for (var i = 0; i < n; i++)
        {
            var d = a[i] - _mean;
            a[i] = d * d;
        }
        _std = Math.Sqrt(PairwiseSum(a) / n);
        if (_std == 0.0) _std = 0.000001;
    }

    /// <summary>Sum in numpy's pairwise layout (8 accumulators per block of at most 128, halves split at multiples of 8).</summary>
    private static double PairwiseSum(ReadOnlySpan<double> a)
    {
        var n = a.Length;
        if (n < 8)
        {
            var s = 0.0;
            foreach (var v in a) s += v;
            return s;
        }
        if (n <= 128)
        {
            double r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            var i = 8;
            for (; i < n - n % 8; i += 8)
            {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3];
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7];
            }
            var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++) res += a[i];
            return res;
        }
        var half = n / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }
}
