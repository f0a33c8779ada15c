using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

/// <summary>fastText, the named baseline, must see exactly our rows and be scored by our scorer.</summary>
public sealed class FastTextFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ew-fasttext-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void One_line_collapses_every_run_of_white_space()
    {
        Assert.Equal("a b c", FastTextFiles.OneLine("  a\r\n\tb \u00A0\u2028 c \n"));
        Assert.Equal("", FastTextFiles.OneLine(" \n "));
        Assert.Equal("__label__hate x y", FastTextFiles.Line(Labels.Hate, "x\ny"));
    }

    [Fact]
    public void Split_files_hold_exactly_the_rows_train_and_evaluate_use()
    {
        var davidson = DatasetLoader.Load(TestPaths.Data("davidson-hate-offensive"));
        var olid = DatasetLoader.Load(TestPaths.Data("olid"));
        var written = FastTextFiles.WriteSplits([davidson], [davidson, olid], _dir, identityAugmentation: true);

        // The fixed split's documented sizes (models/README.md), plus the identity sentences `train` adds.
        var augmentation = IdentityTemplates.TrainingAugmentation();
        Assert.Equal(
            [("train.txt", 17_348 + augmentation.Count), ("val.txt", 2_478), ("test-davidson-hate-offensive.txt", 4_957), ("test-olid.txt", 860)],
            written);
        foreach (var (file, count) in written) Assert.Equal(count, File.ReadAllLines(Path.Combine(_dir, file)).Length);

        // Line for line the examples `evaluate` scores, labels included.
        var expected = HeldOut.SelectTest(davidson);
        var lines = File.ReadAllLines(Path.Combine(_dir, "test-davidson-hate-offensive.txt"));
        for (var i = 0; i < expected.Count; i++) Assert.Equal(FastTextFiles.Line(expected[i].Label, expected[i].Text), lines[i]);
        Assert.Equal(expected.Select(e => e.LabelIndex), FastTextFiles.ReadLabels(Path.Combine(_dir, "test-davidson-hate-offensive.txt"), false));
        Assert.Equal(augmentation.Count, File.ReadLines(Path.Combine(_dir, "train.txt")).Count(l => augmentation.Contains(l["__label__none ".Length..])));
    }

    [Fact]
    public void Predictions_are_scored_as_evaluate_scores_the_dataset()
    {
        var split = Write("test-davidson-hate-offensive.txt", "__label__hate a", "__label__offensive b", "__label__none c", "__label__hate d");
        var perfect = Write("perfect.pred", "__label__hate", "__label__offensive", "__label__none", "__label__hate");
        Assert.Equal(1.0, FastTextFiles.Score(split, perfect).MacroF1, 9);
        // One hate row called offensive, and an empty prediction line (fastText's answer to a line without words) is none.
        var worse = Write("worse.pred", "__label__offensive", "__label__offensive", "", "__label__hate");
        var r = FastTextFiles.Score(split, worse);
        Assert.Equal(0.5, r.PerClass[Labels.Hate].Recall, 9);
        Assert.Equal(1.0, r.PerClass[Labels.None].Recall, 9);
        Assert.Equal(0.75, r.Accuracy, 9);

        // OLID is scored binary: hate predicted for an offensive row is a hit.
        var olid = Write("test-olid.txt", "__label__offensive a", "__label__none b");
        var binary = FastTextFiles.Score(olid, Write("olid.pred", "__label__hate", "__label__none"));
        Assert.Equal(1.0, binary.Accuracy, 9);
        Assert.Equal([Labels.None, Labels.Offensive], binary.PerClass.Keys);
    }

    [Fact]
    public void Unreadable_files_are_refused_with_the_line()
    {
        var split = Write("test-x.txt", "__label__hate a", "__label__none b");
        var e = Assert.Throws<InvalidDataException>(() => FastTextFiles.Score(split, Write("a.pred", "__label__hate", "__label__toxic")));
        Assert.Contains("a.pred:2", e.Message);
        Assert.Throws<InvalidDataException>(() => FastTextFiles.Score(split, Write("b.pred", "__label__hate")));
        Assert.Throws<InvalidDataException>(() => FastTextFiles.Score(split, Write("c.pred", "hate", "none")));
        Assert.Throws<InvalidDataException>(() => FastTextFiles.ReadLabels(Write("test-y.txt", "__label__hate a", ""), allowEmpty: false));
        Assert.Throws<InvalidDataException>(() => FastTextFiles.ReadProbabilities(Write("d.prob", "__label__hate 1.7")));
        Assert.Throws<InvalidDataException>(() => FastTextFiles.ReadProbabilities(Write("e.prob", "__label__hate")));
    }

    [Fact]
    public void Class_biases_chosen_on_validation_are_applied_to_the_test_split()
    {
        // fastText's predict-prob output: the hate rows lean offensive, so argmax never says hate.
        string[] gold = ["__label__hate a", "__label__offensive b", "__label__none c", "__label__hate d", "__label__offensive e"];
        string[] probs =
        [
            "__label__offensive 0.5 __label__hate 0.4 __label__none 0.1",
            "__label__offensive 0.8 __label__hate 0.1 __label__none 0.1",
            "__label__none 0.8 __label__offensive 0.1 __label__hate 0.1",
            "__label__offensive 0.55 __label__hate 0.35 __label__none 0.1",
            "__label__offensive 0.9 __label__none 0.1",
        ];
        var val = Write("val.txt", gold);
        var valProbs = Write("val.prob", probs);
        var test = Write("test-davidson-hate-offensive.txt", gold);
        var testProbs = Write("test.prob", probs);
        var p = FastTextFiles.ReadProbabilities(testProbs);
        Assert.Equal([0.1f, 0.5f, 0.4f], p[..3]);
        Assert.Equal([0.1f, 0.9f, 0f], p[12..]);

        var argmax = HeldOut.Score("davidson-hate-offensive", FastTextFiles.ReadLabels(test, false),
            Enumerable.Range(0, gold.Length).Select(i => Array.IndexOf(p, p.AsSpan(i * 3, 3).ToArray().Max(), i * 3) - i * 3).ToArray());
        Assert.Equal(0, argmax.PerClass[Labels.Hate].F1, 9);

        var (bias, report) = FastTextFiles.ScoreWithBias(val, valProbs, test, testProbs);
        Assert.True(bias[2] > bias[1], $"hate bias {bias[2]} should exceed offensive bias {bias[1]}");
        Assert.Equal(1.0, report.PerClass[Labels.Hate].F1, 9);
        Assert.Equal(1.0, report.Accuracy, 9);
    }

    private string Write(string name, params string[] lines)
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
