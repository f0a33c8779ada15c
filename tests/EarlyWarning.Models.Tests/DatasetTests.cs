using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

public class DatasetTests
{
    private static int Count(DatasetLoadResult r, string label, string? split = null) =>
        r.Examples.Count(e => e.Label == label && (split is null || e.Split == split));

    [Fact]
    public void Davidson_counts_match_source_md()
    {
        var r = DatasetLoader.Load(TestPaths.Data("davidson-hate-offensive"));
        Assert.Empty(r.Skipped);
        Assert.Equal(24783, r.Examples.Count);
        Assert.Equal(1430, Count(r, Labels.Hate));
        Assert.Equal(19190, Count(r, Labels.Offensive));
        Assert.Equal(4163, Count(r, Labels.None));
        Assert.True(r.Redistributable);
        Assert.All(r.Examples, e => Assert.NotNull(e.Soft));
    }

    [Fact]
    public void Mlma_counts_match_source_md()
    {
        var r = DatasetLoader.Load(TestPaths.Data("mlma-hate-speech"));
        Assert.Empty(r.Skipped);
        Assert.Equal(5647, r.Examples.Count(e => e.Language == "en"));
        Assert.Equal(4014, r.Examples.Count(e => e.Language == "fr"));
        Assert.Equal(3353, r.Examples.Count(e => e.Language == "ar"));
        Assert.Equal(661, r.Examples.Count(e => e.Language == "en" && e.Label == Labels.None));
        Assert.Equal(821, r.Examples.Count(e => e.Language == "fr" && e.Label == Labels.None));
        Assert.Equal(915, r.Examples.Count(e => e.Language == "ar" && e.Label == Labels.None));
        Assert.Contains(r.Examples, e => e.Target == "women");
    }

    [Fact]
    public void Sinhala_counts_match_source_md()
    {
        var r = DatasetLoader.Load(TestPaths.Data("sinhala-racism-tweets"));
        Assert.Empty(r.Skipped);
        Assert.Equal(1411, r.Examples.Count);
        Assert.Equal(1081, Count(r, Labels.None));
        Assert.Equal(222 + 108, Count(r, Labels.Hate));
        Assert.Equal(222, r.Examples.Count(e => e.Target == "women"));
        Assert.DoesNotContain(r.Examples, e => e.Text.StartsWith('"'));
    }

    [Fact]
    public void Olid_counts_match_source_md()
    {
        var r = DatasetLoader.Load(TestPaths.Data("olid"));
        Assert.Equal(13240, r.Examples.Count(e => e.Split == "train"));
        Assert.Equal(860, r.Examples.Count(e => e.Split == "test"));
        Assert.Equal(620, Count(r, Labels.None, "test"));
        Assert.Equal(240, Count(r, Labels.Offensive, "test"));
        Assert.Equal(4400, Count(r, Labels.Offensive, "train"));
    }

    [Fact]
    public void HateXplain_uses_the_official_split_and_reports_undecided_rows()
    {
        var r = DatasetLoader.Load(TestPaths.Data("hatexplain"));
        Assert.Equal(15383, r.Examples.Count(e => e.Split == "train"));
        Assert.Equal(1922, r.Examples.Count(e => e.Split == "val"));
        Assert.Equal(1924, r.Examples.Count(e => e.Split == "test"));
        Assert.Equal(594, Count(r, Labels.Hate, "test"));
        Assert.Equal(548, Count(r, Labels.Offensive, "test"));
        Assert.Equal(919, r.Skipped.Count(s => s.Reason == "undecided_label"));
    }

    [Fact]
    public void Amharic_counts_match_source_md()
    {
        var r = DatasetLoader.Load(TestPaths.Data("amharic-hate-ranlp2023"));
        Assert.Equal(12000, r.Examples.Count(e => e.Split == "train"));
        Assert.Equal(1500, r.Examples.Count(e => e.Split == "val"));
        Assert.Equal(1501, r.Examples.Count(e => e.Split == "test"));
        Assert.Equal(702, Count(r, Labels.Hate, "test"));
        Assert.Equal(264, Count(r, Labels.Offensive, "test"));
        Assert.False(r.Redistributable);
    }

    [Fact]
    public void MyHateSpeech_maps_tags_and_reports_malformed_labels()
    {
        var r = DatasetLoader.Load(TestPaths.Data("myanmar-hate-myhatespeech"));
        Assert.Equal(9143, r.Examples.Count + r.Skipped.Count);
        Assert.Equal(3, r.Skipped.Count); // the three empty labels; 'ab' + ZWNJ is read as 'ab'
        Assert.Equal(1650, Count(r, Labels.None));
        Assert.Equal(5115 + 1 + 478 + 943 + 205, Count(r, Labels.Offensive));
        Assert.Equal(286, r.Examples.Count(e => e.Incitement));
        Assert.False(r.Redistributable);
    }

    [Fact]
    public void Generic_csv_and_jsonl_map_labels_and_report_bad_rows()
    {
        var dir = TestPaths.NewTempDir();
        var csv = Path.Combine(dir, "d.csv");
        File.WriteAllText(csv, "text,label\n\"hello, \"\"world\"\"\nsecond line\",none\nyou idiot,offensive\nbad one,weird\nx,hateful\ny,non-hateful\n\"unterminated,hate\n");
        var r = DatasetLoader.Load(csv);
        Assert.Equal(4, r.Examples.Count);
        Assert.Equal("hello, \"world\"\nsecond line", r.Examples[0].Text);
        Assert.Equal([Labels.None, Labels.Offensive, Labels.Hate, Labels.None], r.Examples.Select(e => e.Label));
        Assert.Contains(r.Skipped, s => s.Reason == "bad_label");
        Assert.Contains(r.Skipped, s => s.Reason == "malformed_quotes");

        var jsonl = Path.Combine(dir, "d.jsonl");
        File.WriteAllText(jsonl, "{\"text\":\"a\",\"label\":\"hate\"}\nnot json\n[1]\n{\"label\":\"none\"}\n\n{\"text\":\"b\",\"label\":\"none\",\"lang\":\"sw\"}\n");
        var j = DatasetLoader.Load(jsonl);
        Assert.Equal(2, j.Examples.Count);
        Assert.Equal("sw", j.Examples[1].Language);
        Assert.Equal(["invalid_json", "not_an_object", "missing_field:text"], j.Skipped.Select(s => s.Reason));

        var noLabel = Path.Combine(dir, "n.csv");
        File.WriteAllText(noLabel, "tweet,class\nhi,1\n");
        Assert.Contains(DatasetLoader.Load(noLabel).Skipped, s => s.Reason.StartsWith("missing_field", StringComparison.Ordinal));
        Assert.Contains(DatasetLoader.Load(Path.Combine(dir, "missing.csv")).Skipped, s => s.Reason == "not_found");
    }

    [Fact]
    public void Csv_reader_handles_crlf_quotes_and_field_count()
    {
        using var reader = new StringReader("a,b\r\n\"x\r\ny\",2\r\n1,\"\"\r\n");
        var csv = new CsvReader(reader);
        Assert.Equal(["a", "b"], csv.ReadRecord());
        Assert.Equal(["x\r\ny", "2"], csv.ReadRecord());
        Assert.Equal(["1", ""], csv.ReadRecord());
        Assert.Null(csv.ReadRecord());
    }
}
