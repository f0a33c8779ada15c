using System.Buffers;
using System.Globalization;
using CsCheck;
using System.Text;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Text.Tests;

public class NormalizationTests
{
    private static string N(NormalizationSteps steps, string s) => new TextNormalizer(steps).Normalize(s);

    [Fact]
    public void Nfkc_folds_fullwidth_and_mathematical_letters()
    {
        Assert.Equal("kill", N(NormalizationSteps.Nfkc, "ｋｉｌｌ"));
        Assert.Equal("kill", N(NormalizationSteps.Nfkc, "\U0001D424\U0001D422\U0001D425\U0001D425")); // bold
        Assert.Equal("ｋｉｌｌ", N(NormalizationSteps.None, "ｋｉｌｌ"));
    }

    [Fact]
    public void Case_fold_lowers_all_scripts()
    {
        Assert.Equal("hate ΑΒΓ".ToLowerInvariant(), N(NormalizationSteps.CaseFold, "HATE ΑΒΓ"));
        Assert.Equal("HATE", N(NormalizationSteps.None, "HATE"));
    }

    [Fact]
    public void Strip_invisible_removes_zero_width_and_format_characters()
    {
        Assert.Equal("kill them", N(NormalizationSteps.StripInvisible, "k\u200Bi\u200Dl\u00ADl\uFEFF them\u2066"));
        Assert.Equal("a b", N(NormalizationSteps.StripInvisible, "a\u0001b"));
        Assert.Equal("k\u200Bill", N(NormalizationSteps.None, "k\u200Bill"));
    }

    [Fact]
    public void Homoglyphs_fold_cyrillic_and_greek_lookalikes_in_latin_words_only()
    {
        Assert.Equal("kill", N(NormalizationSteps.Homoglyphs | NormalizationSteps.CaseFold, "кіll"));        // Cyrillic ka, i
        Assert.Equal("hope", N(NormalizationSteps.Homoglyphs | NormalizationSteps.CaseFold, "hοpе"));        // Greek omicron, Cyrillic ie
        Assert.Equal("привет", N(NormalizationSteps.Homoglyphs | NormalizationSteps.CaseFold, "привет"));    // real Cyrillic word kept
        Assert.Equal("кіll", N(NormalizationSteps.None, "кіll"));
    }

    [Fact]
    public void Leet_maps_digits_inside_words_but_not_numbers()
    {
        var leet = NormalizationSteps.Leet;
        Assert.Equal("kill", N(leet, "k1ll"));
        Assert.Equal("idiot", N(leet, "1d10t"));
        Assert.Equal("hate", N(leet, "h@te"));
        Assert.Equal("covid19 2024 @user", N(leet, "covid19 2024 @user"));
        Assert.Equal("k1ll", N(NormalizationSteps.None, "k1ll"));
    }

    [Fact]
    public void Spaced_letters_are_rejoined()
    {
        var j = NormalizationSteps.JoinSpacedLetters;
        Assert.Equal("kill them", N(j, "k i l l them"));
        Assert.Equal("kill", N(j, "k.i.l.l"));
        Assert.Equal("kill", N(j, "k-i-l-l"));
        Assert.Equal("i am a man", N(j, "i am a man"));          // two single letters are not a spaced word
        Assert.Equal("k i l l", N(NormalizationSteps.None, "k i l l"));
    }

    [Fact]
    public void Repeats_collapse()
    {
        var c = NormalizationSteps.CollapseRepeats;
        Assert.Equal(N(c, "kill"), N(c, "kiiiilllllll"));
        Assert.Equal("kil", N(c, "kill"));
        Assert.Equal("killll", N(NormalizationSteps.None, "killll"));
        Assert.Equal("هه", N(c, "ههههههه"));                      // other scripts keep two
    }

    [Theory]
    [InlineData("k1ll them all")]
    [InlineData("K I L L them all")]
    [InlineData("kiiiilll them alllll")]
    [InlineData("кіll them all")]
    [InlineData("ｋｉｌｌ ｔｈｅｍ ａｌｌ")]
    [InlineData("k\u200Bi\u200Bl\u200Bl them all")]
    [InlineData("K.I.L.L THEM ALL!!!")]
    public void Obfuscated_variants_yield_the_same_features_as_the_plain_form(string obfuscated)
    {
        var h = new FeatureHasher();
        Assert.Equal(Features(h, "kill them all"), Features(h, obfuscated));
    }

    private static string Features(FeatureHasher h, string text)
    {
        var idx = new int[1024];
        var val = new float[1024];
        var n = h.Featurize(text, idx, val);
        Assert.True(n > 0);
        return string.Join(" ", Enumerable.Range(0, n).Select(i => $"{idx[i]}:{val[i]:R}"));
    }

    [Fact]
    public void Quick_check_never_claims_normalised_when_icu_disagrees_on_real_text()
    {
        var claimed = 0;
        foreach (var text in Corpus.Multilingual(200))
        {
            if (NfkcQuickCheck.IsKnownNormalized(text))
            {
                claimed++;
                Assert.True(text.IsNormalized(NormalizationForm.FormKC));
            }
        }
        Assert.True(claimed > 500, $"quick check proved only {claimed} texts"); // the fast path is actually taken
    }

    [Fact]
    public void Quick_check_sees_every_composing_pair()
    {
        // Each canonical pair as two characters (and after a prefix) is not NFKC: the quick check must not claim it is.
        var pairs = 0;
        foreach (var key in NfkcData.Pairs)
        {
            var text = new string([(char)(key >> 16), (char)(key & 0xFFFF)]);
            if (text.IsNormalized(NormalizationForm.FormKC)) continue; // composition exclusions and the like
            pairs++;
            Assert.False(NfkcQuickCheck.IsKnownNormalized(text), $"U+{(int)text[0]:X4} U+{(int)text[1]:X4}");
            Assert.False(NfkcQuickCheck.IsKnownNormalized("ab " + text), $"U+{(int)text[0]:X4} U+{(int)text[1]:X4} after a prefix");
        }
        Assert.True(pairs > 800, $"only {pairs} pairs checked");
    }

    [Fact]
    public void Simple_nfkc_path_agrees_with_icu_on_real_text_and_on_every_mapped_character()
    {
        var buf = new char[4 * 70_000];
        var simple = 0;
        foreach (var text in Corpus.Multilingual(200).Append("a\u00A0b\u2026 ﬁne ｆｕｌｌ ﻻ"))
        {
            if (!NfkcQuickCheck.TryNormalizeSimple(text, buf, out var n)) continue;
            simple++;
            Assert.Equal(text.Normalize(NormalizationForm.FormKC), new string(buf, 0, n));
        }
        Assert.True(simple > 900, $"{simple} texts on the simple path");
        var e = NfkcSimpleData.Entries;
        for (var i = 0; i < e.Length; i += 3)
        {
            var s = "x" + (char)e[i] + "y";
            Assert.True(NfkcQuickCheck.TryNormalizeSimple(s, buf, out var n));
            Assert.Equal(s.Normalize(NormalizationForm.FormKC), new string(buf, 0, n));
        }
    }

    // Letters and combining marks of several classes (acute and circumflex 230, dot below 220, horn 216, cedilla 202,
    // Burmese dot below 7 and asat 9), letters they compose with (Vietnamese ậ is a + dot below + circumflex),
    // Sinhala and Burmese sequences that compose or reorder, Hangul jamo, and units with simple NFKC forms.
    private static readonly Gen<string> MarkTricky = Gen.OneOfConst(
            'a', 'e', 'o', 'u', 'A', 'x', ' ', '\u0301', '\u0302', '\u0323', '\u031B', '\u0327', '\u0308', '\u00E2', '\u1EA1',
            '\u0DD9', '\u0DCF', '\u0DCA', '\u0D9A', '\u1000', '\u1025', '\u102E', '\u1037', '\u103A', '\u1100', '\u1161',
            '\u11A8', '\u00A0', '\u2026', '\uFB01')
        .Array[0, 24].Select(a => new string(a));

    private static string Units(string s) => string.Join(' ', s.Select(c => $"{(int)c:X4}"));

    [Fact]
    public void Simple_nfkc_path_agrees_with_icu_on_generated_mark_sequences()
    {
        var simple = 0;
        MarkTricky.Sample(text =>
        {
            // The quick check never calls a text normalised that is not.
            if (NfkcQuickCheck.IsKnownNormalized(text)) Assert.True(text.IsNormalized(NormalizationForm.FormKC), Units(text));
            var buf = new char[4 * text.Length + 4];
            if (!NfkcQuickCheck.TryNormalizeSimple(text, buf, out var n)) return;
            Interlocked.Increment(ref simple);
            var expected = text.Normalize(NormalizationForm.FormKC);
            Assert.True(expected == new string(buf, 0, n), $"{Units(text)}: ICU {Units(expected)}, ours {Units(new string(buf, 0, n))}");
        }, iter: 20_000);
        Assert.True(simple > 2_000, $"{simple} texts on the simple path");
        // Long runs of marks out of order are sorted in linear time and exactly as ICU orders them.
        var runs = "x" + string.Concat(Enumerable.Repeat("\u0301\u0323", 3000)) + " \u1000" + new string('\u103A', 2000) + new string('\u1037', 2000);
        var big = new char[4 * runs.Length];
        Assert.True(NfkcQuickCheck.TryNormalizeSimple(runs, big, out var m));
        Assert.Equal(runs.Normalize(NormalizationForm.FormKC), new string(big, 0, m));
    }

    [Fact]
    public void Crafted_runs_of_thousands_of_marks_get_grapheme_joiners_and_real_text_never_does()
    {
        // Without the Zawgyi step for the comparison with ICU (the Burmese run below reads as Zawgyi and is converted).
        var normalizer = new TextNormalizer(NormalizationSteps.Default & ~NormalizationSteps.ZawgyiToUnicode);
        var withZawgyi = new TextNormalizer();
        string[] crafted =
        [
            "a" + new string('\u0301', 3000) + new string('\u0323', 3000),                      // composes, then reorders
            "x" + string.Concat(Enumerable.Repeat("\u0301\u0323", 3000)),                         // alternating classes
            "\u1000" + new string('\u103A', 2000) + new string('\u1037', 2000),                 // Burmese asat / dot below
            "e" + string.Concat(Enumerable.Repeat("\u0344\u0323", 1000)),                         // an unstable mark: ICU's path
        ];
        foreach (var text in crafted)
        {
            Assert.True(NfkcQuickCheck.NeedsJoiners(text));
            var joined = new char[text.Length + text.Length / NfkcQuickCheck.MaxNonStarters + 1];
            var expected = new string(joined, 0, NfkcQuickCheck.InsertJoiners(text, joined)).Normalize(NormalizationForm.FormKC).ToLowerInvariant();
            var actual = normalizer.Normalize(text);
            var diff = Enumerable.Range(0, Math.Min(expected.Length, actual.Length)).FirstOrDefault(k => expected[k] != actual[k], -1);
            Assert.True(expected == actual, $"crafted text of {text.Length} units: lengths {expected.Length} / {actual.Length}, first difference at {diff}: {(diff >= 0 ? Units(expected.Substring(diff, Math.Min(6, expected.Length - diff))) + " / " + Units(actual.Substring(diff, Math.Min(6, actual.Length - diff))) : "")}");
            // No run of more than 30 marks is left between joiners, with the Zawgyi step too.
            var run = 0;
            foreach (var c in actual + withZawgyi.Normalize(text))
            {
                run = c != NfkcQuickCheck.GraphemeJoiner && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark ? run + 1 : 0;
                Assert.True(run <= 2 * NfkcQuickCheck.MaxNonStarters, "marks between joiners stay bounded");
            }
        }
        // 30 marks in a row are left alone; the 31st gets a joiner before it.
        var thirty = "q" + new string('\u0308', 30); // q has no precomposed form with a diaeresis
        Assert.False(NfkcQuickCheck.NeedsJoiners(thirty));
        Assert.True(NfkcQuickCheck.NeedsJoiners(thirty + "\u0308"));
        var buf = new char[64];
        Assert.True(withZawgyi.TryFusedPass(thirty, buf, out _, out _));            // the one-pass path takes 30 marks ...
        Assert.False(withZawgyi.TryFusedPass(thirty + "\u0308", buf, out _, out _)); // ... and leaves 31 to the general path
        Assert.Equal("q" + new string('\u0308', 30) + NfkcQuickCheck.GraphemeJoiner + "\u0308", withZawgyi.Normalize(thirty + "\u0308"));
        // Real posts of every script never reach the limit, so the joiners change nothing a model was trained on.
        foreach (var set in new[] { "davidson", "mlma-en", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" })
            foreach (var text in Corpus.Texts(set, 2000))
                Assert.False(NfkcQuickCheck.NeedsJoiners(text), $"{set}: a real post needs joiners");
    }

    [Fact]
    public void Quick_check_rejects_known_non_normalised_sequences()
    {
        Assert.False(NfkcQuickCheck.IsKnownNormalized("e\u0301"));          // composes to é
        Assert.False(NfkcQuickCheck.IsKnownNormalized("\u1025\u102E"));     // Myanmar: composes to U+1026
        Assert.False(NfkcQuickCheck.IsKnownNormalized("\u0DD9\u0DCA"));     // Sinhala: composes to U+0DDA
        Assert.False(NfkcQuickCheck.IsKnownNormalized("\u103A\u1037"));     // Myanmar marks out of canonical order
        Assert.False(NfkcQuickCheck.IsKnownNormalized("ﬁ"));
        Assert.False(NfkcQuickCheck.IsKnownNormalized("a\uD800"));
        Assert.True(NfkcQuickCheck.IsKnownNormalized("\u0D9A\u0DCA"));      // virama after a consonant: stable
        Assert.True(NfkcQuickCheck.IsKnownNormalized("hello 😀"));
    }

    [Fact]
    public void Destination_too_small_is_reported_not_thrown()
    {
        var n = new TextNormalizer();
        Span<char> tiny = stackalloc char[3];
        Assert.Equal(OperationStatus.DestinationTooSmall, n.Normalize("hello world", tiny, out var w));
        Assert.Equal(0, w);
    }
}
