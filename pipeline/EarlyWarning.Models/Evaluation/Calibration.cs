namespace EarlyWarning.Models.Evaluation;

/// <summary>One bin of a reliability table: predictions whose top-class probability fell in [Lower, Upper).</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);

/// <summary>Reliability table and expected calibration error (ECE) of the top-class probability.</summary>
public sealed record CalibrationReport(IReadOnlyList<ReliabilityBin> Bins, double Ece, int Count)
{
    /// <summary>
    /// Bins the top-class probability of each row into <paramref name="bins"/> equal-width bins; ECE = Σ (n_b/n)·|acc_b − conf_b|.
    /// <paramref name="probabilities"/> is row-major [n, classes]; <paramref name="gold"/> holds class indices.
    /// </summary>
    public static CalibrationReport Compute(ReadOnlySpan<float> probabilities, IReadOnlyList<int> gold, int classes, int bins = 10)
    {
        var count = new int[bins];
        var conf = new double[bins];
        var correct = new int[bins];
        for (var i = 0; i < gold.Count; i++)
        {
            var row = probabilities.Slice(i * classes, classes);
            var best = 0;
            for (var c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            var b = Math.Min(bins - 1, (int)(row[best] * bins));
            count[b]++;
            conf[b] += row[best];
            if (best == gold[i]) correct[b]++;
        }
        var list = new List<ReliabilityBin>(bins);
        double ece = 0;
        for (var b = 0; b < bins; b++)
        {
            var meanConf = count[b] == 0 ? 0 : conf[b] / count[b];
            var acc = count[b] == 0 ? 0 : correct[b] / (double)count[b];
            if (gold.Count > 0) ece += count[b] / (double)gold.Count * Math.Abs(acc - meanConf);
            list.Add(new ReliabilityBin(Math.Round(b / (double)bins, 2), Math.Round((b + 1) / (double)bins, 2), count[b], Math.Round(meanConf, 4), Math.Round(acc, 4)));
        }
        return new CalibrationReport(list, Math.Round(ece, 4), gold.Count);
    }
}
