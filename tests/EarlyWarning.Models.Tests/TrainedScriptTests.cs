using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

/// <summary>
/// A model trained on no text of a script has no evidence there: its scores on such a post come from hash collisions
/// with other languages' n-grams (issue 4, found when a retrain with new hashes labelled a third of simulated Burmese
/// posts hate). Serving lets the lexicons alone label those posts.
/// </summary>
public class TrainedScriptTests
{
    private const string Latin = "the quick brown fox";
    private const string Sinhala = "ශ්‍රී ලංකාව ලස්සනයි";
    private const string Burmese = "ဒီနေ့ မိုးရွာတယ်";
    private const string BurmeseWithTerm = "ဒီနေ့ ဇဈညဋ ပဲ";
    private const string Tamil = "தமிழ் மொழி அழகானது";

    // A model that labels everything hate (bias +50 on hate), trained, says its manifest, on Latin and Sinhala only.
    private static string AlwaysHateModel(List<string>? scripts)
    {
        var (dir, _) = TestModels.RandomModelDir(7, classBias: [0, 0, 50]);
        var path = Path.Combine(dir, "model.json");
        var manifest = ModelManifest.Load(path);
        manifest.TrainedScripts = scripts;
        manifest.Save(path);
        return dir;
    }

    private static Lexicon BurmeseLexicon()
    {
        var dir = TestPaths.NewTempDir("ew-lex-my");
        File.WriteAllText(Path.Combine(dir, "mm.tsv"), "term\tlang\tcountry\tcategory\ttarget\tseverity\tnote\nဇဈညဋ\tmy\tMM\tslur\trohingya\t3\t\n");
        return Lexicon.LoadDirectory(dir);
    }

    [Fact]
    public void Model_abstains_on_scripts_it_was_not_trained_on_and_the_lexicons_still_label_them()
    {
        using var pc = new PostClassifier(OnnxClassifier.Load(AlwaysHateModel([ModelManifest.UnmappedScript, "si"])), BurmeseLexicon());
        var d = pc.ClassifyTexts([Latin, Sinhala, Burmese, BurmeseWithTerm, Tamil]);

        Assert.Equal(Labels.Hate, d[0].Label);
        Assert.Equal(Labels.Hate, d[1].Label);
        Assert.DoesNotContain(d[0].Explanation, e => e.StartsWith(PostClassifier.UntrainedScriptNote, StringComparison.Ordinal));

        Assert.Equal(Labels.None, d[2].Label); // the model said hate; it was never trained on Burmese
        Assert.Equal(Labels.None, d[4].Label); // nor on Tamil
        Assert.True(d[2].Scores[2] > 0, "the model's scores are still reported");

        Assert.Equal(Labels.Hate, d[3].Label); // the lexicon's slur
        Assert.Equal("rohingya", d[3].Target);
        Assert.Contains(PostClassifier.UntrainedScriptNote + "my", d[3].Explanation);
        Assert.Contains("lexicon:slur:ဇဈညဋ", d[3].Explanation);
        Assert.Equal(2, d[3].Explanation.Count); // no n-grams from a model that knows nothing of the script
    }

    [Fact]
    public void Older_manifests_without_a_script_list_keep_the_model_on_every_script()
    {
        using var pc = new PostClassifier(OnnxClassifier.Load(AlwaysHateModel(null)), BurmeseLexicon());
        var d = pc.ClassifyTexts([Latin, Burmese, Tamil]);
        Assert.All(d, x => Assert.Equal(Labels.Hate, x.Label));
    }

    [Fact]
    public void A_shadow_model_abstains_by_its_own_manifest()
    {
        // The same restricted model as its own shadow agrees everywhere, Burmese included; the unrestricted one, given
        // the same weights, disagrees exactly on the Burmese and Tamil posts without a lexicon term.
        var restricted = AlwaysHateModel([ModelManifest.UnmappedScript, "si"]);
        var posts = new[] { Latin, Sinhala, Burmese, BurmeseWithTerm, Tamil }.Select((t, i) => new PostEnvelope
        {
            Post = new Post { Id = "p" + i, CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = t },
            Position = new SourcePosition("test", i),
        }).ToList();

        using var same = new PostClassifier(OnnxClassifier.Load(restricted), BurmeseLexicon());
        same.LoadShadow(restricted);
        same.ClassifyBatch(posts);
        Assert.Equal(0, same.ShadowReport!.Disagreements);

        using var other = new PostClassifier(OnnxClassifier.Load(restricted), BurmeseLexicon());
        other.LoadShadow(AlwaysHateModel(null));
        other.ClassifyBatch(posts);
        var report = other.ShadowReport!;
        Assert.Equal(2, report.Disagreements);
        Assert.Equal(2, report.ByLabelPair["none->hate"]);
        Assert.Equal(new[] { "p2", "p4" }, report.Examples["none->hate"]);
    }

    // A model that labels everything offensive, trained (its manifest says) on Burmese only, named apart.
    private static string AlwaysOffensiveBurmeseModel()
    {
        var (dir, _) = TestModels.RandomModelDir(9, classBias: [0, 50, 0]);
        var path = Path.Combine(dir, "model.json");
        var manifest = ModelManifest.Load(path);
        manifest.Name = "burmese-test";
        manifest.TrainedScripts = ["my"];
        manifest.Save(path);
        return dir;
    }

    [Fact]
    public void A_script_model_labels_the_posts_in_its_scripts_that_the_served_model_was_not_trained_on()
    {
        using var pc = new PostClassifier(OnnxClassifier.Load(AlwaysHateModel([ModelManifest.UnmappedScript, "si"])), BurmeseLexicon());
        var scriptDir = AlwaysOffensiveBurmeseModel();
        pc.LoadScriptModel(scriptDir);
        var d = pc.ClassifyTexts([Latin, Burmese, BurmeseWithTerm, Tamil, Sinhala]);
        using var alone = OnnxClassifier.Load(scriptDir);
        var expected = new float[3];
        alone.Predict([Burmese], expected);

        Assert.Equal((Labels.Hate, "test-model@0.0.1"), (d[0].Label, d[0].Model)); // the served model's script
        Assert.Equal((Labels.Offensive, "burmese-test@0.0.1"), (d[1].Label, d[1].Model)); // routed
        for (var k = 0; k < 3; k++) Assert.Equal(expected[k], d[1].Scores[k], 5); // the script model's scores
        Assert.DoesNotContain(d[1].Explanation, e => e.StartsWith(PostClassifier.UntrainedScriptNote, StringComparison.Ordinal));
        Assert.Equal((Labels.Hate, "burmese-test@0.0.1"), (d[2].Label, d[2].Model)); // the lexicon still rules
        Assert.Equal((Labels.None, "test-model@0.0.1"), (d[3].Label, d[3].Model)); // no model for Tamil: lexicons alone
        Assert.Equal(Labels.Hate, d[4].Label);
    }

    [Fact]
    public void A_script_model_must_name_its_scripts()
    {
        using var pc = new PostClassifier(OnnxClassifier.Load(AlwaysHateModel([ModelManifest.UnmappedScript])), BurmeseLexicon());
        var e = Assert.Throws<ArgumentException>(() => pc.LoadScriptModel(AlwaysHateModel(null)));
        Assert.Contains("trained_scripts", e.Message);
        Assert.Empty(pc.ScriptModels);
    }

    [Fact]
    public void Classify_command_takes_script_models()
    {
        var served = AlwaysHateModel([ModelManifest.UnmappedScript]);
        var output = new StringWriter();
        Assert.Equal(0, Cli.ClassifyCommand.Run(served, json: true, new StringReader(Latin + "\n" + Burmese + "\n"), output, [AlwaysOffensiveBurmeseModel()]));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"model\":\"test-model@0.0.1\"", lines[0]);
        Assert.Contains("\"label\":\"offensive\"", lines[1]);
        Assert.Contains("\"model\":\"burmese-test@0.0.1\"", lines[1]);

        var refused = new StringWriter();
        Assert.Equal(2, Cli.ClassifyCommand.Run(served, json: true, new StringReader(Latin), refused, [AlwaysHateModel(null)]));
        Assert.Contains("trained_scripts", refused.ToString());
    }

    [Fact]
    public void Training_scripts_are_those_with_enough_examples()
    {
        var texts = Enumerable.Repeat(Latin, 150).Concat(Enumerable.Repeat(Burmese, TrainingScripts.MinExamples))
            .Concat(Enumerable.Repeat(Sinhala, TrainingScripts.MinExamples - 1)).Concat(Enumerable.Repeat("", 5));
        Assert.Equal(new[] { (ModelManifest.UnmappedScript, 155), ("my", TrainingScripts.MinExamples) }, TrainingScripts.Count(texts));
    }

    [Fact]
    public void The_shipped_model_names_the_scripts_it_was_trained_on()
    {
        var m = ModelManifest.Load(Path.Combine(TestModels.ShippedModelDir, "model.json"));
        Assert.Equal(new[] { ModelManifest.UnmappedScript, "ar", "si" }, m.TrainedScripts);
        Assert.False(m.CoversScriptOf(Burmese));
        Assert.True(m.CoversScriptOf(Latin));
    }
}
