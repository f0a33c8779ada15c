using EarlyWarning.Models.Datasets;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Tests;

namespace EarlyWarning.Models.Tests;

public sealed class LexiconMatchTests
{
    private static readonly Text.Normalization.TextNormalizer Normalizer = new();

    private static LexiconEntry Entry(string term) =>
        new(term, Normalizer.Normalize(term), "en", "*", LexiconCategories.Offensive, null, 2, null, "test.tsv");

    [Fact]
    public void Matches_come_in_order_of_start_each_entry_once_at_its_first_hit()
    {
        var lex = new Lexicon([Entry("kill"), Entry("kill them"), Entry("them"), Entry("home")]);
        var norm = lex.Normalize("kill them all, kill them");
        var m = lex.MatchNormalized(norm);
        // At one start, the matcher's order (the shorter term ends first); the second "kill them" adds nothing.
        Assert.Equal([("kill", 0), ("kill them", 0), ("them", norm.IndexOf("them", StringComparison.Ordinal))],
            m.Select(x => (x.Entry.Term, x.Start)).ToArray());
        Assert.All(m, x => Assert.Equal(x.Entry.Normalized.Length, x.Length));
        Assert.Empty(lex.MatchNormalized("nothing here"));
        Assert.Empty(lex.MatchNormalized(""));
    }

    /// <summary>
    /// The shipped lexicons over real posts: the same matches as ordering the matcher's hits with a stable sort by
    /// start and keeping each entry's first (what MatchNormalized did with LINQ and a set per post).
    /// </summary>
    [Fact]
    public void Shipped_lexicons_on_real_posts_match_as_a_stable_sort_and_first_hit_per_entry()
    {
        var lex = Lexicon.LoadDirectory(TestModels.ShippedLexiconDir);
        var matcher = new AutomatonTermMatcher(lex.Entries.Select(e => e.Normalized).ToArray(), new Text.Normalization.TextNormalizer());
        var texts = new[] { "davidson-hate-offensive", "mlma-hate-speech", "sinhala-racism-tweets" }
            .SelectMany(d => DatasetLoader.Load(TestPaths.Data(d)).Examples.Take(3_000).Select(e => e.Text));
        var several = 0;
        foreach (var text in texts)
        {
            var norm = lex.Normalize(text);
            var hits = new List<(int Start, int PatternId)>();
            matcher.FindAll(norm, hits);
            var seen = new HashSet<int>();
            var expected = hits.OrderBy(h => h.Start).Where(h => seen.Add(h.PatternId))
                .Select(h => (lex.Entries[h.PatternId], h.Start)).ToList();
            var actual = lex.MatchNormalized(norm).Select(x => (x.Entry, x.Start)).ToList();
            Assert.Equal(expected, actual);
            if (hits.Count > 1) several++;
        }
        Assert.True(several > 20, $"only {several} posts with more than one hit: ordering and de-duplication hardly ran");
    }
}
