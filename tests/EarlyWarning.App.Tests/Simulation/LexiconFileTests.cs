using System.Text;
using EarlyWarning.App.Simulation;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Tests;
using Xunit.Abstractions;

namespace EarlyWarning.App.Tests.Simulation;

/// <summary>The hand-curated lexicons (models/lexicons) and their agreement with the simulator's templates.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class LexiconFileTests(SimulatorFixture f, ITestOutputHelper output)
{
    internal static readonly string[] TargetGroups =
    [
        "muslims", "rohingya", "christians", "hindus", "tamils", "sinhalese", "kikuyu", "luo", "kalenjin", "women",
        "journalists", "election_officials", "lgbtq", "immigrants", "black_people", "disabled_people", "jews",
    ];

    private static readonly string[] Categories = ["slur", "dehumanising", "incitement", "coded", "offensive", "identity"];
    private static readonly string[] Langs = ["my", "si", "ta", "sw", "en"];
    private static readonly Lazy<Lexicon> Lex = new(() => Lexicon.LoadDirectory(Dir));
    private static string Dir => Path.Combine(TestPaths.RepoRoot, "models", "lexicons");

    public static TheoryData<string, string> Files => new()
    {
        { "mm.tsv", "MM" }, { "lk.tsv", "LK" }, { "ke.tsv", "KE" }, { "global.tsv", "*" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Lexicon_file_parses_with_allowed_values(string file, string country)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, file));
        Assert.True(System.Text.Unicode.Utf8.IsValid(bytes));
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        var header = lines.First(l => !l.StartsWith('#'));
        Assert.Equal("term\tlang\tcountry\tcategory\ttarget\tseverity\tnote", header);
        var entries = 0;
        var terms = new HashSet<string>(StringComparer.Ordinal);
        var categories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.SkipWhile(l => l != header).Skip(1))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var c = line.Split('\t');
            Assert.Equal(7, c.Length);
            Assert.False(string.IsNullOrWhiteSpace(c[0]));
            Assert.Equal(c[0].Trim(), c[0]);
            Assert.True(terms.Add(c[1] + "|" + c[0]), $"duplicate term in {file}");
            Assert.Contains(c[1], Langs);
            Assert.Equal(country, c[2]);
            Assert.Contains(c[3], Categories);
            categories.Add(c[3]);
            if (c[4].Length > 0) Assert.Contains(c[4], TargetGroups);
            if (c[3] == "identity") Assert.NotEmpty(c[4]);
            Assert.True(int.TryParse(c[5], out var severity) && severity is >= 1 and <= 3, $"severity '{c[5]}'");
            entries++;
        }
        Assert.InRange(entries, 20, 60);
        Assert.Superset(new HashSet<string> { "slur", "dehumanising", "incitement", "offensive", "identity" }, categories);
    }

    [Fact]
    public void Models_loader_reads_every_line_without_problems()
    {
        Assert.Empty(Lex.Value.Problems);
        Assert.True(Lex.Value.Entries.Count >= 120);
    }

    [Fact]
    public void Every_term_the_simulator_uses_is_in_the_lexicons_with_its_target()
    {
        var entries = Lex.Value.Entries;
        bool Has(string term, Lang lang, string? target, Func<string, bool> category) =>
            entries.Any(e => e.Normalized == Lex.Value.Normalize(term) && e.Lang == Phrasebook.LangCodes[(int)lang]
                && (target is null || e.Target == target) && category(e.Category));
        foreach (var lang in Enum.GetValues<Lang>())
        {
            foreach (var country in new[] { "MM", "LK", "KE" })
                foreach (var group in TargetGroups)
                {
                    if (Phrasebook.Identity(lang, country, group) is { } id) Assert.True(Has(id, lang, group, c => c == "identity"), $"identity {lang}/{group}");
                    foreach (var t in Phrasebook.HatefulTerms(lang, country, group))
                        Assert.True(Has(t, lang, group, LexiconCategories.IsHateful), $"hateful term for {lang}/{group}");
                }
            foreach (var t in Phrasebook.Dehumanising[(int)lang]) Assert.True(Has(t, lang, null, LexiconCategories.IsHateful), $"dehumanising {lang}");
            foreach (var t in Phrasebook.Incitements[(int)lang]) Assert.True(Has(t, lang, null, c => c == "incitement"), $"incitement {lang}");
            foreach (var t in Phrasebook.Insults[(int)lang]) Assert.True(Has(t, lang, null, c => c == "offensive"), $"insult {lang}");
        }
    }

    /// <summary>What each post was meant to be agrees with what the lexicons find in it.</summary>
    [Fact]
    public void Lexicons_flag_hateful_posts_and_leave_ordinary_posts_alone()
    {
        var lex = Lex.Value;
        int hate = 0, hateFlagged = 0, hateTargeted = 0, offensive = 0, offensiveFlagged = 0, ordinary = 0, ordinaryFlagged = 0;
        for (var i = 0; i < f.Posts.Length; i++)
        {
            var p = f.Posts[i];
            var kind = f.Simulator.KindAt(i);
            // Sampling keeps the test fast; every incident post and every 5th ordinary post.
            if (kind is PostKind.Neutral or PostKind.Identity or PostKind.Offensive && i % 5 != 0) continue;
            var matches = lex.Match(p.Text).Where(m => m.Entry.Country == "*" || m.Entry.Country == p.Country).ToList();
            var hateful = matches.Any(m => LexiconCategories.IsHateful(m.Entry.Category));
            switch (kind)
            {
                case PostKind.Neutral or PostKind.Identity or PostKind.Decoy:
                    ordinary++;
                    if (hateful || matches.Any(m => m.Entry.Category == "offensive")) ordinaryFlagged++;
                    break;
                case PostKind.Offensive:
                    offensive++;
                    if (!hateful && matches.Any(m => m.Entry.Category == "offensive")) offensiveFlagged++;
                    break;
                default:
                    hate++;
                    if (hateful) hateFlagged++;
                    if (matches.Any(m => m.Entry.Target is { Length: > 0 })) hateTargeted++;
                    break;
            }
        }
        output.WriteLine($"hate {hateFlagged}/{hate} flagged, {hateTargeted} with a target; offensive {offensiveFlagged}/{offensive}; ordinary flagged {ordinaryFlagged}/{ordinary}");
        Assert.Equal(hate, hateFlagged);
        Assert.Equal(hate, hateTargeted);
        Assert.Equal(offensive, offensiveFlagged);
        Assert.Equal(0, ordinaryFlagged);
    }
}
