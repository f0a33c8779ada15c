using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Models.Serving;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

public class ShadowTests
{
    private static PostEnvelope Envelope(string id, string text) => new()
    {
        Post = new Post { Id = id, CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = text },
        Position = new SourcePosition("test", 0),
    };

    private static List<PostEnvelope> Posts(int n) =>
        Enumerable.Range(0, n).Select(i => Envelope("p" + i, $"post {i} about the weather and word{i % 17} and thing{i % 5}")).ToList();

    [Fact]
    public void Shadow_model_disagreements_are_counted_by_label_pair_with_example_ids()
    {
        var (served, _) = TestModels.RandomModelDir(7);
        var (shadowDir, _) = TestModels.RandomModelDir(8);
        using var pc = new PostClassifier(OnnxClassifier.Load(served), Lexicon.LoadDirectory(TestPaths.NewTempDir("ew-nolex")));
        Assert.Null(pc.ShadowReport);
        pc.LoadShadow(shadowDir);
        var posts = Posts(300);
        pc.ClassifyBatch(posts.Take(120).ToList());
        pc.ClassifyBatch(posts.Skip(120).ToList());

        // Independent expectation: the shadow model alone, through its own classifier.
        using var alone = new PostClassifier(OnnxClassifier.Load(shadowDir), Lexicon.LoadDirectory(TestPaths.NewTempDir("ew-nolex")));
        var shadowLabels = alone.ClassifyTexts(posts.Select(p => p.Post.Text).ToList()).Select(d => d.Label).ToList();
        var disagreeing = posts.Select((p, i) => (p, i)).Where(x => x.p.Decision!.Label != shadowLabels[x.i]).ToList();
        Assert.NotEmpty(disagreeing); // two different random models must disagree somewhere

        var report = pc.ShadowReport!;
        Assert.Equal(300, report.Compared);
        Assert.Equal(disagreeing.Count, report.Disagreements);
        Assert.Equal(report.Disagreements, report.ByLabelPair.Values.Sum());
        foreach (var g in disagreeing.GroupBy(x => x.p.Decision!.Label + "->" + shadowLabels[x.i]))
        {
            Assert.Equal(g.Count(), report.ByLabelPair[g.Key]);
            Assert.Equal(g.Select(x => x.p.Post.Id).Take(ShadowRecorder.ExamplesPerPair), report.Examples[g.Key]);
        }
        Assert.Equal("test-model@0.0.1", report.ShadowModel);
        Assert.InRange(report.AgreementRate, 0, 1 - 1e-9);
        // Served decisions are the served model's, not the shadow's.
        Assert.All(posts, p => Assert.Equal("test-model@0.0.1", p.Decision!.Model));
    }

    [Fact]
    public void Identical_shadow_agrees_everywhere_and_lexicon_rule_applies_to_both()
    {
        var (served, _) = TestModels.RandomModelDir(7);
        var lex = TestPaths.NewTempDir("ew-lex");
        File.WriteAllText(Path.Combine(lex, "t.tsv"), "term\tlang\tcountry\tcategory\ttarget\tseverity\tnote\nzorblaxes\ten\t*\tslur\tmuslims\t3\t\n");
        using var pc = new PostClassifier(OnnxClassifier.Load(served), Lexicon.LoadDirectory(lex));
        pc.LoadShadow(served);
        var posts = Posts(50);
        posts.Add(Envelope("lex", "the zorblaxes again"));
        posts.Add(Envelope("empty", ""));
        pc.ClassifyBatch(posts);
        var report = pc.ShadowReport!;
        Assert.Equal(52, report.Compared);
        Assert.Equal(0, report.Disagreements);
        Assert.Empty(report.Examples);
        Assert.Equal(0, report.MeanHateScoreDelta, 6);
        Assert.Equal(1.0, report.AgreementRate);
    }

    [Fact]
    public void Shadow_recording_is_consistent_under_concurrent_batches()
    {
        var (served, _) = TestModels.RandomModelDir(7);
        var (shadowDir, _) = TestModels.RandomModelDir(9);
        using var pc = new PostClassifier(OnnxClassifier.Load(served), Lexicon.LoadDirectory(TestPaths.NewTempDir("ew-nolex")));
        pc.LoadShadow(shadowDir);
        var batches = Enumerable.Range(0, 8).Select(_ => Posts(64)).ToList();
        Parallel.ForEach(batches, b => pc.ClassifyBatch(b));
        var report = pc.ShadowReport!;
        Assert.Equal(8 * 64, report.Compared);
        // Every batch holds the same texts, so disagreements are exactly 8x those of one batch.
        Assert.Equal(0, report.Disagreements % 8);
    }
}
