using System.Text.Json;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Cli;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

public class FeedbackTests
{
    [Fact]
    public void Feedback_jsonl_round_trips_latest_record_wins_and_bad_lines_are_reported()
    {
        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "feedback.jsonl");
        var t0 = new DateTimeOffset(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
        var records = new[]
        {
            new Feedback("p1", Labels.Hate, "analyst-a", null, t0),
            new Feedback("p2", Labels.None, "analyst-a", "counter-speech", t0),
            new Feedback("p1", Labels.Offensive, "analyst-b", "second look", t0.AddMinutes(5)),
            new Feedback("p3", Labels.Hate, "analyst-a", null, t0),
        };
        var texts = new Dictionary<string, string> { ["p1"] = "text one", ["p2"] = "text two" };
        using (var w = new StreamWriter(file))
        {
            Assert.Equal(3, FeedbackData.WriteJsonl(records, id => texts.GetValueOrDefault(id), w, out var missing));
            Assert.Equal(1, missing);
            w.WriteLine("{not json");
            w.WriteLine("{\"post_id\":\"p9\",\"label\":\"maybe\",\"text\":\"x\",\"actor\":\"a\"}");
        }
        var d = DatasetLoader.Load(file);
        Assert.True(d.IsFeedback);
        Assert.Equal(FeedbackData.DatasetName, d.Name);
        Assert.Equal(2, d.Examples.Count);
        Assert.Equal(Labels.Offensive, d.Examples.Single(e => e.Id == "p1").Label);
        Assert.Equal(["bad_label", "invalid_json", "superseded_feedback"], d.Skipped.Select(s => s.Reason).Order(StringComparer.Ordinal));
        Assert.Equal("feedback.jsonl:1", d.Skipped.Single(s => s.Reason == "superseded_feedback").Where);
    }

    [Fact]
    public void Train_with_feedback_learns_the_analysts_labels_and_the_report_shows_the_effect()
    {
        var dir = TestPaths.NewTempDir();
        var csv = Path.Combine(dir, "base.csv");
        var rng = new Random(4);
        using (var w = new StreamWriter(csv))
        {
            w.WriteLine("text,label");
            for (var i = 0; i < 900; i++)
            {
                var (label, word) = (i % 3) switch { 0 => ("none", "sunshine"), 1 => ("offensive", "nitwit"), _ => ("hate", "blorgs") };
                // "vexcode" appears only in harmless posts in the base data.
                w.WriteLine($"{word} number {rng.Next(1000)} {(i % 9 == 0 ? "vexcode" : "")},{label}");
            }
        }
        // Analysts mark an emerging coded use of "vexcode" in otherwise neutral posts as hate.
        var fb = Path.Combine(dir, "feedback.jsonl");
        using (var w = new StreamWriter(fb))
        {
            var records = Enumerable.Range(0, 100).Select(i => new Feedback("sim:" + i, Labels.Hate, "analyst", null, DateTimeOffset.UnixEpoch.AddSeconds(i))).ToList();
            FeedbackData.WriteJsonl(records, id => $"they are vexcode people {id.Length * 7 + rng.Next(1000)} sunshine", w, out _);
        }
        var outDir = Path.Combine(dir, "model");
        var log = new StringWriter();
        Assert.Equal(0, TrainCommand.Run([csv, fb], outDir, log, new Training.TrainerOptions { IdentityAugmentation = false }, TestModels.SmallFeatures, "fb", "0.1"));
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json"))).RootElement;
        var effect = metrics.GetProperty("feedback_effect");
        Assert.Equal(80, effect.GetProperty("feedback_train").GetInt32());
        Assert.Equal(20, effect.GetProperty("feedback_test").GetInt32());
        var before = effect.GetProperty("without_feedback").GetProperty("feedback_test").GetProperty("accuracy").GetDouble();
        var after = effect.GetProperty("with_feedback").GetProperty("feedback_test").GetProperty("accuracy").GetDouble();
        Assert.True(before < 0.5, $"without feedback {before}");
        Assert.True(after > 0.9, $"with feedback {after}");
        // Learning the feedback does not break the base task.
        Assert.True(effect.GetProperty("with_feedback").GetProperty("other_test").GetProperty("accuracy").GetDouble() > 0.95);
        Assert.Contains("## Analyst feedback", File.ReadAllText(Path.Combine(outDir, "model-card.md")), StringComparison.Ordinal);
        Assert.Contains("feedback effect", log.ToString(), StringComparison.Ordinal);
    }
}
