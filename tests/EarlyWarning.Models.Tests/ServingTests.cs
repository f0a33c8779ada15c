using System.Text.Json;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Cli;
using EarlyWarning.Models.Evaluation;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Models.Serving;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

public class ServingTests
{
    private static string LexiconDir(string content)
    {
        var dir = TestPaths.NewTempDir("ew-lex");
        File.WriteAllText(Path.Combine(dir, "test.tsv"), "term\tlang\tcountry\tcategory\ttarget\tseverity\tnote\n# comment\n" + content);
        return dir;
    }

    private static PostEnvelope Envelope(string id, string text) => new()
    {
        Post = new Post { Id = id, CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = text },
        Position = new SourcePosition("test", 0),
    };

    [Fact]
    public void Lexicon_rule_labels_hate_sets_flags_target_terms_and_explanation()
    {
        // Invented placeholder terms, not real slurs.
        var lex = LexiconDir(
            "zorblaxes\ten\t*\tslur\tmuslims\t3\tplaceholder\n" +
            "kill the qwerts\ten\t*\tincitement\tjews\t3\t\n" +
            "vermoid\ten\t*\tdehumanising\t\t2\t\n" +
            "villagers\ten\t*\tidentity\tkikuyu\t1\t\n" +
            "ကြွက်ပုပ်\tmy\tMM\tdehumanising\trohingya\t3\t\n" +
            "broken line without tabs\n" +
            "x\ten\t*\tnot-a-category\t\t1\t\n");
        var (model, _) = TestModels.RandomModelDir(21, classBias: [5, -5, -5]); // the model alone says none
        using var pc = PostClassifier.Load(model, lex);
        Assert.Equal(2, pc.Lexicon.Problems.Count);
        var batch = new[]
        {
            Envelope("a", "The ZORBLAXES are at it again"),
            Envelope("b", "time to kill the qwerts tonight"),
            Envelope("c", "some villagers came to the market"),
            Envelope("d", "ဒီကောင်တွေ ကြွက်ပုပ်တွေ"),
            Envelope("e", "zorblaxesque is not a word"),
            Envelope("f", ""),
        };
        pc.ClassifyBatch(batch);
        var a = batch[0].Decision!;
        Assert.Equal(Labels.Hate, a.Label);
        Assert.Equal("muslims", a.Target);
        Assert.Contains("zorblaxes", a.Terms);
        Assert.Equal("lexicon:slur:zorblaxes", a.Explanation[0]);
        Assert.Equal("test-model@0.0.1", a.Model);
        Assert.Equal(3, a.Scores.Length);

        var b = batch[1].Decision!;
        Assert.Equal(Labels.Hate, b.Label);
        Assert.True(b.Incitement >= 0.9f);
        Assert.Equal("jews", b.Target);

        var c = batch[2].Decision!;
        Assert.Equal(Labels.None, c.Label);
        Assert.Equal("kikuyu", c.Target);
        Assert.Empty(c.Explanation);

        var d = batch[3].Decision!;
        Assert.Equal(Labels.Hate, d.Label);
        Assert.True(d.Dehumanisation >= 0.9f);
        Assert.Equal("rohingya", d.Target);

        Assert.Equal(Labels.None, batch[4].Decision!.Label); // word boundary for Latin script
        Assert.Equal(Labels.None, batch[5].Decision!.Label);
        Assert.Equal("f", batch[5].Decision!.PostId);
    }

    [Fact]
    public void Explanations_list_ngrams_that_push_towards_the_label()
    {
        var (dir, model) = TestModels.RandomModelDir(8, classBias: [-9, -9, 9]); // always hate
        using var pc = PostClassifier.Load(dir, LexiconDir(""));
        var d = pc.ClassifyTexts(["alpha beta gamma delta epsilon zeta eta theta"])[0];
        Assert.Equal(Labels.Hate, d.Label);
        Assert.InRange(d.Explanation.Count, 1, PostClassifier.ExplanationNgrams);
        var hasher = pc.Model.Hasher;
        foreach (var ngram in d.Explanation)
        {
            var (_, index, sign) = hasher.Describe("alpha beta gamma delta epsilon zeta eta theta").First(x => x.Ngram == ngram);
            Assert.True(sign * (model.Weights[index * 3 + 2] - model.Weights[index * 3]) > 0, ngram);
        }
    }

    [Fact]
    public void Every_lexicon_file_in_the_repository_loads()
    {
        var lex = Lexicon.LoadDirectory(TestModels.ShippedLexiconDir);
        Assert.DoesNotContain(lex.Problems, p => !p.Contains("not found", StringComparison.Ordinal));
    }

    [Fact]
    public void Identity_templates_false_positive_rate_per_group_is_bounded()
    {
        // Bound stated in the model card: at most 25 % of the 20 non-hateful sentences per group labelled hate.
        using var pc = PostClassifier.Load(TestModels.ShippedModelDir, TestModels.ShippedLexiconDir);
        var cases = IdentityTemplates.All();
        var labels = pc.ClassifyTexts(cases.Select(c => c.Text).ToList()).Select(d => d.Label).ToList();
        var rates = IdentityTemplates.FalsePositiveRates(cases, labels);
        Assert.Equal(IdentityTemplates.Groups.Count, rates.Count);
        Assert.All(rates, kv => Assert.True(kv.Value <= 0.25, $"{kv.Key}: {kv.Value:P0}"));
        Assert.True(rates.Values.Average() <= 0.10, $"mean {rates.Values.Average():P1}");
    }

    [Fact]
    public void Classify_writes_one_object_per_line_for_odd_lines()
    {
        string[] lines =
        [
            "", "   ", "\t", "{\"text\":\"json looking\"}", "12345", "😀😀😀", "ဒီနေ့ မိုးရွာတယ်", "\uFFFD\uFFFD bytes",
            new string('a', ClassifyCommand.MaxChars + 10), "\u0001\u0002 control", "normal sentence about the weather",
        ];
        var input = new StringReader(string.Join("\n", lines) + "\n");
        var output = new StringWriter();
        Assert.Equal(0, ClassifyCommand.Run(TestModels.ShippedModelDir, json: true, input, output));
        var outLines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, outLines.Length);
        foreach (var l in outLines)
        {
            var o = JsonDocument.Parse(l).RootElement;
            Assert.Contains(o.GetProperty("label").GetString(), Labels.All);
            var scores = o.GetProperty("scores");
            var sum = Labels.All.Sum(k => scores.GetProperty(k).GetDouble());
            Assert.InRange(sum, 0.99, 1.01);
            Assert.True(o.GetProperty("flags").TryGetProperty("incitement", out _));
            Assert.True(o.GetProperty("flags").TryGetProperty("dehumanisation", out _));
            Assert.True(o.TryGetProperty("target", out _));
            Assert.Equal(JsonValueKind.Array, o.GetProperty("explanation").ValueKind);
        }
        Assert.Equal("empty_text", JsonDocument.Parse(outLines[0]).RootElement.GetProperty("note").GetString());
        Assert.Equal("truncated", JsonDocument.Parse(outLines[8]).RootElement.GetProperty("note").GetString());
        Assert.Equal("undecodable_bytes_replaced", JsonDocument.Parse(outLines[7]).RootElement.GetProperty("note").GetString());
    }

    [Fact]
    public void Classify_and_evaluate_report_a_missing_model_instead_of_crashing()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "nope");
        var o = new StringWriter();
        Assert.Equal(2, ClassifyCommand.Run(missing, true, new StringReader("hi\n"), o));
        Assert.Contains("error", o.ToString(), StringComparison.Ordinal);
        o = new StringWriter();
        Assert.Equal(2, EvaluateCommand.Run(missing, TestPaths.Data("olid"), true, o));
        Assert.True(JsonDocument.Parse(o.ToString()).RootElement.TryGetProperty("error", out _));
    }
}
