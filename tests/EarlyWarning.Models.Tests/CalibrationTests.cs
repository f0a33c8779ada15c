using System.Xml.Linq;
using EarlyWarning.Models.Evaluation;

namespace EarlyWarning.Models.Tests;

public class CalibrationTests
{
    [Fact]
    public void Ece_is_zero_for_calibrated_bins_and_measures_overconfidence()
    {
        // 10 rows at confidence 0.8 with 8 correct: calibrated.
        var probs = new List<float>();
        var gold = new List<int>();
        for (var i = 0; i < 10; i++) { probs.AddRange([0.8f, 0.1f, 0.1f]); gold.Add(i < 8 ? 0 : 1); }
        var r = CalibrationReport.Compute(probs.ToArray(), gold, 3);
        Assert.Equal(0, r.Ece, 4);
        Assert.Equal(10, r.Bins[8].Count);
        Assert.Equal(0.8, r.Bins[8].Accuracy, 4);
        // Same confidence, half correct: ECE = |0.5 - 0.8| = 0.3.
        gold = Enumerable.Range(0, 10).Select(i => i < 5 ? 0 : 2).ToList();
        Assert.Equal(0.3, CalibrationReport.Compute(probs.ToArray(), gold, 3).Ece, 4);
    }

    [Fact]
    public void Pr_curve_and_average_precision_match_a_hand_computed_ranking()
    {
        // Scores for class 1 (rank order): pos, neg, pos, neg.
        float[] probs = [0.1f, 0.9f, 0f, 0.3f, 0.7f, 0f, 0.4f, 0.6f, 0f, 0.8f, 0.2f, 0f];
        int[] gold = [1, 0, 1, 0];
        var c = PrCurves.Compute(probs, gold, 3, 1, "offensive");
        Assert.Equal(2, c.Positives);
        // AP = 0.5*1 + 0.5*(2/3)
        Assert.Equal(0.5 + 0.5 * 2 / 3.0, c.AveragePrecision, 3);
        Assert.Equal((1.0, 0.5), c.Points[^1]);
        var svg = XDocument.Parse(PrCurves.ToSvg([c], "a <test> & title"));
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.Single(svg.Descendants(), e => e.Name.LocalName == "path");
    }

    [Fact]
    public void Shipped_model_directory_has_calibration_in_metrics_and_pr_curve_images()
    {
        var dir = TestModels.ShippedModelDir;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        var cal = doc.RootElement.GetProperty("calibration");
        Assert.InRange(cal.GetProperty("ece").GetDouble(), 0, 1);
        Assert.Equal(cal.GetProperty("count").GetInt32(), cal.GetProperty("bins").EnumerateArray().Sum(b => b.GetProperty("count").GetInt32()));
        Assert.InRange(doc.RootElement.GetProperty("average_precision").GetProperty("hate").GetDouble(), 0, 1);
        var png = File.ReadAllBytes(Path.Combine(dir, "pr-curves.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Equal("svg", XDocument.Load(Path.Combine(dir, "pr-curves.svg")).Root!.Name.LocalName);
    }
}
