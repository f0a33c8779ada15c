using EarlyWarning.Text.Matching;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Text.Tests;

public class MatcherTests
{
    private static readonly TextNormalizer Norm = new();

    private static List<(int Id, string Text)> Find(MultiPatternMatcher m, string raw)
    {
        var text = Norm.Normalize(raw);
        var buf = new PatternMatch[64];
        var n = m.FindAll(text, buf);
        return buf[..n].Select(x => (x.Id, text.Substring(x.Start, x.Length))).ToList();
    }

    [Fact]
    public void Matches_whole_words_only_in_space_delimited_scripts()
    {
        var m = new MultiPatternMatcher([("rat", 1), ("rats", 2), ("go home", 3)]);
        Assert.Equal([1], Find(m, "a rat!").Select(x => x.Id));
        Assert.Equal([2], Find(m, "RATS everywhere").Select(x => x.Id));
        Assert.Empty(Find(m, "democrats and pirates"));
        Assert.Equal([3], Find(m, "they should go home now").Select(x => x.Id));
    }

    [Fact]
    public void Obfuscated_text_matches_patterns_normalised_the_same_way()
    {
        var m = new MultiPatternMatcher([("kill", 7)]);
        Assert.Equal([7], Find(m, "k1lll").Select(x => x.Id));
        Assert.Equal([7], Find(m, "K I L L").Select(x => x.Id));
        Assert.Equal([7], Find(m, "кіll").Select(x => x.Id));
    }

    [Fact]
    public void Burmese_patterns_match_as_substrings_and_overlaps_are_all_reported()
    {
        // ကုလား is written here only as a pattern under test; mid-string matches are expected for Burmese.
        var m = new MultiPatternMatcher([("မြန်မာ", 1), ("မာ", 2), ("he", 3), ("hers", 4), ("she", 5)]);
        var r = Find(m, "လူမြန်မာပြည်");
        Assert.Contains(r, x => x.Id == 1);
        Assert.Contains(r, x => x.Id == 2);
        Assert.Equal([5], Find(m, "she").Select(x => x.Id)); // "he" inside "she" is not a whole word
    }

    [Fact]
    public void Matches_on_real_lexicon_terms_and_is_allocation_free()
    {
        var terms = File.ReadLines(EarlyWarning.Tests.TestPaths.Data("davidson-hate-offensive", "refined_ngram_dict.csv"))
            .Skip(1).Select(l => l.Split(',')[0].Trim('"')).Where(t => t.Length > 0).Distinct().Select((t, i) => (t, i)).ToList();
        var m = new MultiPatternMatcher(terms);
        Assert.Equal(terms.Count, m.PatternCount + m.SkippedPatterns.Count);
        var texts = Corpus.Texts("davidson", 300).Select(Norm.Normalize).ToList();
        var buf = new PatternMatch[256];
        var hits = 0;
        foreach (var t in texts) hits += m.FindAll(t, buf);
        Assert.True(hits > 10, $"{hits} hits");
        // Every reported match is really the normalised pattern text at that place.
        var normTerms = terms.Select(x => Norm.Normalize(x.t).Trim()).ToList();
        foreach (var t in texts.Take(100))
        {
            var n = m.FindAll(t, buf);
            for (var i = 0; i < n; i++) Assert.Equal(normTerms[buf[i].Id], t.Substring(buf[i].Start, buf[i].Length));
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var t in texts) m.FindAll(t, buf);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
