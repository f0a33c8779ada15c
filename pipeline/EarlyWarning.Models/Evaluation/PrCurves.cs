using System.Globalization;
using System.Text;

namespace EarlyWarning.Models.Evaluation;

/// <summary>A one-vs-rest precision-recall curve of one class and its average precision.</summary>
public sealed record PrCurve(string Label, IReadOnlyList<(double Recall, double Precision)> Points, double AveragePrecision, int Positives);

/// <summary>Precision-recall curves from class probabilities, drawn as PNG (ScottPlot) and as a hand-written SVG.</summary>
public static class PrCurves
{
    /// <summary>Curve of class <paramref name="classIndex"/>: rows ranked by its probability, one point per distinct score.</summary>
    public static PrCurve Compute(ReadOnlySpan<float> probabilities, IReadOnlyList<int> gold, int classes, int classIndex, string label)
    {
        var scores = new (float Score, bool Positive)[gold.Count];
        for (var i = 0; i < gold.Count; i++) scores[i] = (probabilities[i * classes + classIndex], gold[i] == classIndex);
        Array.Sort(scores, (a, b) => b.Score.CompareTo(a.Score));
        var positives = scores.Count(s => s.Positive);
        var points = new List<(double, double)>();
        int tp = 0, fp = 0;
        double ap = 0, lastRecall = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i].Positive) tp++; else fp++;
            if (i + 1 < scores.Length && scores[i + 1].Score == scores[i].Score) continue; // ties form one threshold
            var recall = positives == 0 ? 0 : tp / (double)positives;
            var precision = tp / (double)(tp + fp);
            ap += (recall - lastRecall) * precision;
            lastRecall = recall;
            points.Add((recall, precision));
        }
        return new PrCurve(label, Thin(points, 400), Math.Round(ap, 4), positives);
    }

    private static List<(double, double)> Thin(List<(double R, double P)> pts, int max)
    {
        if (pts.Count <= max) return pts;
        var step = pts.Count / (double)max;
        var result = new List<(double, double)>(max + 1);
        for (var i = 0; i < max; i++) result.Add(pts[(int)(i * step)]);
        result.Add(pts[^1]);
        return result;
    }

    /// <summary>Draws the curves into a PNG file with ScottPlot (SkiaSharp); returns false with the reason when drawing fails
    /// (e.g. the native Skia library cannot load), so training never fails because of a plot.</summary>
    public static bool TrySavePng(IReadOnlyList<PrCurve> curves, string title, string path, out string? error)
    {
        try
        {
            var plot = new ScottPlot.Plot();
            for (var k = 0; k < curves.Count; k++)
            {
                var c = curves[k];
                var line = plot.Add.ScatterLine(c.Points.Select(p => p.Recall).ToArray(), c.Points.Select(p => p.Precision).ToArray(), ScottPlot.Color.FromHex(Colours[k % Colours.Length]));
                line.LineWidth = 2;
                line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{c.Label} (AP {c.AveragePrecision:0.000}, n={c.Positives})");
            }
            plot.Title(title);
            plot.XLabel("recall");
            plot.YLabel("precision");
            plot.Axes.SetLimits(0, 1, 0, 1.02);
            plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
            plot.SavePng(path, 640, 480);
            error = null;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or IOException)
        {
            error = e.GetType().Name + ": " + e.Message;
            return false;
        }
    }

    private static readonly string[] Colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"];

    /// <summary>Renders the curves as a self-contained SVG (axes, grid, legend with average precision).</summary>
    public static string ToSvg(IReadOnlyList<PrCurve> curves, string title)
    {
        var ci = CultureInfo.InvariantCulture;
        const int w = 520, h = 420, left = 60, top = 40, pw = 400, ph = 320;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(ci, $"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
        sb.AppendLine(ci, $"<text x=\"{w / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>");
        for (var i = 0; i <= 10; i++)
        {
            var x = left + pw * i / 10.0;
            var y = top + ph - ph * i / 10.0;
            sb.AppendLine(ci, $"<line x1=\"{x:0.#}\" y1=\"{top}\" x2=\"{x:0.#}\" y2=\"{top + ph}\" stroke=\"#eee\"/><line x1=\"{left}\" y1=\"{y:0.#}\" x2=\"{left + pw}\" y2=\"{y:0.#}\" stroke=\"#eee\"/>");
            if (i % 2 == 0)
                sb.AppendLine(ci, $"<text x=\"{x:0.#}\" y=\"{top + ph + 16}\" text-anchor=\"middle\">{i / 10.0:0.0}</text><text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{i / 10.0:0.0}</text>");
        }
        sb.AppendLine(ci, $"<rect x=\"{left}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>");
        sb.AppendLine(ci, $"<text x=\"{left + pw / 2}\" y=\"{top + ph + 34}\" text-anchor=\"middle\">recall</text>");
        sb.AppendLine(ci, $"<text x=\"16\" y=\"{top + ph / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {top + ph / 2})\">precision</text>");
        for (var k = 0; k < curves.Count; k++)
        {
            var colour = Colours[k % Colours.Length];
            var path = string.Join(" ", curves[k].Points.Select((p, i) => string.Create(ci, $"{(i == 0 ? 'M' : 'L')}{left + p.Recall * pw:0.#},{top + ph - p.Precision * ph:0.#}")));
            sb.AppendLine(ci, $"<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>");
            var ly = top + ph - 16 - 18 * (curves.Count - 1 - k);
            sb.AppendLine(ci, $"<line x1=\"{left + 12}\" y1=\"{ly - 4}\" x2=\"{left + 32}\" y2=\"{ly - 4}\" stroke=\"{colour}\" stroke-width=\"3\"/><text x=\"{left + 38}\" y=\"{ly}\">{Escape(curves[k].Label)} (AP {curves[k].AveragePrecision:0.000}, n={curves[k].Positives})</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
