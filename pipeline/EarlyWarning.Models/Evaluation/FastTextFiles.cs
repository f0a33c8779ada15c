using System.Globalization;
using System.Text;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Training;

namespace EarlyWarning.Models.Evaluation;

/// <summary>
/// Our splits in the file format of fastText's <c>supervised</c> and <c>predict</c> (one example per line,
/// <c>__label__&lt;our label&gt; text</c>), so fastText, the named baseline, trains and is scored on exactly the rows
/// our model trains and is scored on; and the reader of what <c>fasttext predict</c> writes. Used by
/// <c>benchmarks/baselines/fasttext-datasets.sh</c>.
/// </summary>
public static class FastTextFiles
{
    public const string LabelPrefix = "__label__";

    /// <summary>The text on one line: every run of white space (line breaks included) becomes one space.</summary>
    public static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>One example as fastText reads it.</summary>
    public static string Line(string label, string text) => LabelPrefix + label + " " + OneLine(text);

    /// <summary>
    /// Writes <c>train.txt</c> and <c>val.txt</c> (the train and validation splits of <paramref name="trainSets"/>, as
    /// <c>train</c> assigns them; with <paramref name="identityAugmentation"/>, the templated non-hateful identity
    /// sentences <c>train</c> adds) and one <c>test-&lt;dataset&gt;.txt</c> per set in <paramref name="evalSets"/>
    /// (the rows <c>evaluate</c> scores). Returns the file names and their example counts.
    /// </summary>
    public static IReadOnlyList<(string File, int Count)> WriteSplits(IReadOnlyList<DatasetLoadResult> trainSets,
        IReadOnlyList<DatasetLoadResult> evalSets, string dir, bool identityAugmentation)
    {
        Directory.CreateDirectory(dir);
        var written = new List<(string, int)>();
        var all = trainSets.SelectMany(TrainingPipeline.AssignSplits).ToList();
        var train = all.Where(s => s.Split == StratifiedSplit.Train).Select(s => (s.Example.Label, s.Example.Text)).ToList();
        if (identityAugmentation) train.AddRange(IdentityTemplates.TrainingAugmentation().Select(t => (Labels.None, t)));
        written.Add(Write(Path.Combine(dir, "train.txt"), train));
        written.Add(Write(Path.Combine(dir, "val.txt"),
            all.Where(s => s.Split == StratifiedSplit.Validation).Select(s => (s.Example.Label, s.Example.Text)).ToList()));
        foreach (var d in evalSets)
            written.Add(Write(Path.Combine(dir, TestFile(d.Name)), HeldOut.SelectTest(d).Select(e => (e.Label, e.Text)).ToList()));
        return written;
    }

    /// <summary>The test file of a dataset: <c>test-&lt;name&gt;.txt</c>.</summary>
    public static string TestFile(string datasetName) => "test-" + datasetName + ".txt";

    /// <summary>The dataset a split file scores as (its name after <c>test-</c>; train and validation files are three-class).</summary>
    public static string DatasetOf(string splitFile)
    {
        var name = Path.GetFileNameWithoutExtension(splitFile);
        return name.StartsWith("test-", StringComparison.Ordinal) ? name["test-".Length..] : name;
    }

    /// <summary>
    /// The label of each line of a split file or of a <c>fasttext predict</c> output, as an index into
    /// <see cref="Labels.All"/>. An empty prediction line (fastText predicts nothing for a line without words) is none.
    /// </summary>
    public static int[] ReadLabels(string path, bool allowEmpty)
    {
        var result = new List<int>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0 && allowEmpty)
            {
                result.Add(0);
                continue;
            }
            if (!line.StartsWith(LabelPrefix, StringComparison.Ordinal))
                throw new InvalidDataException($"{path}:{n}: does not start with {LabelPrefix}");
            var end = line.IndexOf(' ', StringComparison.Ordinal);
            var label = end < 0 ? line[LabelPrefix.Length..] : line[LabelPrefix.Length..end];
            var index = Array.IndexOf(Labels.All, label);
            if (index < 0) throw new InvalidDataException($"{path}:{n}: unknown label '{label}'");
            result.Add(index);
        }
        return [.. result];
    }

    /// <summary>
    /// Reads what <c>fasttext predict-prob MODEL FILE 3</c> writes (per line, up to three <c>__label__x p</c> pairs) as
    /// row-major probabilities in <see cref="Labels.All"/> order; a label not printed on a line has probability 0.
    /// </summary>
    public static float[] ReadProbabilities(string path)
    {
        var rows = new List<float[]>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var row = new float[Labels.All.Length];
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length % 2 != 0) throw new InvalidDataException($"{path}:{n}: expected label and probability pairs");
            for (var i = 0; i < parts.Length; i += 2)
            {
                if (!parts[i].StartsWith(LabelPrefix, StringComparison.Ordinal))
                    throw new InvalidDataException($"{path}:{n}: '{parts[i]}' is not a label");
                var index = Array.IndexOf(Labels.All, parts[i][LabelPrefix.Length..]);
                if (index < 0) throw new InvalidDataException($"{path}:{n}: unknown label '{parts[i]}'");
                if (!float.TryParse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var p) || p is < 0 or > 1.0001f)
                    throw new InvalidDataException($"{path}:{n}: '{parts[i + 1]}' is not a probability");
                row[index] = p;
            }
            rows.Add(row);
        }
        return rows.SelectMany(r => r).ToArray();
    }

    /// <summary>
    /// Our decision rule applied to a baseline's probabilities: class biases chosen on the validation split
    /// (<see cref="TrainingPipeline.ChooseBias"/>, the objective <c>train</c> uses), then the test split scored once
    /// with them. Returns the biases and the test report.
    /// </summary>
    public static (float[] Bias, ClassificationReport Test) ScoreWithBias(string valFile, string valProbabilities, string testFile, string testProbabilities)
    {
        var valGold = ReadLabels(valFile, allowEmpty: false);
        var valProbs = ReadProbabilities(valProbabilities);
        if (valProbs.Length != valGold.Length * Labels.All.Length)
            throw new InvalidDataException($"{valProbabilities} has {valProbs.Length / Labels.All.Length} rows but {valFile} has {valGold.Length}");
        var bias = TrainingPipeline.ChooseBias(valProbs, valGold);
        var testGold = ReadLabels(testFile, allowEmpty: false);
        var testProbs = ReadProbabilities(testProbabilities);
        if (testProbs.Length != testGold.Length * Labels.All.Length)
            throw new InvalidDataException($"{testProbabilities} has {testProbs.Length / Labels.All.Length} rows but {testFile} has {testGold.Length}");
        return (bias, HeldOut.Score(DatasetOf(testFile), testGold, TrainingPipeline.Decide(testProbs, bias)));
    }

    /// <summary>
    /// Scores a prediction file against its split file, line by line, as <c>evaluate</c> scores the dataset (binary
    /// datasets collapse onto none vs flagged).
    /// </summary>
    public static ClassificationReport Score(string splitFile, string predictionFile)
    {
        var gold = ReadLabels(splitFile, allowEmpty: false);
        var pred = ReadLabels(predictionFile, allowEmpty: true);
        if (gold.Length != pred.Length)
            throw new InvalidDataException($"{predictionFile} has {pred.Length} lines but {splitFile} has {gold.Length}");
        return HeldOut.Score(DatasetOf(splitFile), gold, pred);
    }

    /// <summary>One line of a score table: n, accuracy, macro-F1, weighted-F1 and hate precision / recall / F1 where scored.</summary>
    public static string Summary(ClassificationReport r)
    {
        var ci = CultureInfo.InvariantCulture;
        var text = string.Create(ci, $"n={r.Count} acc={r.Accuracy:0.000} macroF1={r.MacroF1:0.000} weightedF1={r.WeightedF1:0.000}");
        return r.PerClass.TryGetValue(Labels.Hate, out var hate)
            ? text + string.Create(ci, $" hateP={hate.Precision:0.00} hateR={hate.Recall:0.00} hateF1={hate.F1:0.000}")
            : text;
    }

    private static (string, int) Write(string path, List<(string Label, string Text)> rows)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        foreach (var (label, text) in rows) w.WriteLine(Line(label, text));
        return (Path.GetFileName(path), rows.Count);
    }
}
