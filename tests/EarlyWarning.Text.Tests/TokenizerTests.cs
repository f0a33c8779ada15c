using EarlyWarning.Text.Features;
using EarlyWarning.Text.Language;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Tests;

public class TokenizerTests
{
    private static List<(string Text, TokenKind Kind)> Tokens(string s)
    {
        var list = new List<(string, TokenKind)>();
        foreach (var t in Tokenizer.Tokenize(s)) list.Add((s.Substring(t.Start, t.Length), t.Kind));
        return list;
    }

    [Fact]
    public void Urls_mentions_hashtags_emoji_and_numbers_are_their_own_tokens()
    {
        var t = Tokens("see https://x.org/a?b=1 @user_1 #vote2026 😀👍🏽 42 don't");
        Assert.Equal(
            [("see", TokenKind.Word), ("https://x.org/a?b=1", TokenKind.Url), ("@user_1", TokenKind.Mention),
             ("#vote2026", TokenKind.Hashtag), ("😀", TokenKind.Emoji), ("👍🏽", TokenKind.Emoji), ("42", TokenKind.Number),
             ("don't", TokenKind.Word)],
            t);
    }

    [Fact]
    public void Burmese_is_segmented_into_syllables()
    {
        // မြန်မာ (Myanmar) = မြန် + မာ; ကျောင်း (school) is one syllable; stacked consonants stay in one syllable run.
        Assert.Equal(["မြန်", "မာ"], Tokens("မြန်မာ").Select(x => x.Text));
        Assert.Equal(["ကျောင်း"], Tokens("ကျောင်း").Select(x => x.Text));
        Assert.Equal(["သင်္ဘော"], Tokens("သင်္ဘော").Select(x => x.Text)); // kinzi + stacked ba: no break after the virama
        Assert.All(Tokens("မြန်မာ ၂၀၂၆"), x => Assert.True(x.Kind is TokenKind.Syllable or TokenKind.Number));
        Assert.Equal(("၂၀၂၆", TokenKind.Number), Tokens("မြန်မာ ၂၀၂၆")[^1]);
    }

    [Fact]
    public void Burmese_syllables_cover_every_myanmar_letter_of_real_posts()
    {
        var norm = new TextNormalizer();
        foreach (var text in Corpus.Texts("burmese", 300))
        {
            var s = norm.Normalize(text);
            var covered = new bool[s.Length];
            var syllables = 0;
            foreach (var t in Tokenizer.Tokenize(s))
            {
                for (var i = t.Start; i < t.Start + t.Length; i++) covered[i] = true;
                if (t.Kind == TokenKind.Syllable) syllables++;
                Assert.True(t.Kind != TokenKind.Syllable || t.Length <= 16, "a syllable is short");
            }
            for (var i = 0; i < s.Length; i++)
                if (Burmese.IsRunChar(s[i])) Assert.True(covered[i], "every Burmese character is in a token");
            if (s.Any(Burmese.IsSyllableStart)) Assert.True(syllables > 0);
        }
    }

    [Fact]
    public void Scripts_without_spaces_fall_back_to_cluster_bigrams()
    {
        var t = Tokens("สวัสดี");
        Assert.All(t, x => Assert.Equal(TokenKind.CharNgram, x.Kind));
        Assert.True(t.Count >= 2);
        Assert.Equal(["ก"], Tokens("ก").Select(x => x.Text));
    }

    [Theory]
    [InlineData("burmese", "my")]
    [InlineData("sinhala", "si")]
    [InlineData("amharic", "am")]
    [InlineData("mlma-ar", "ar")]
    [InlineData("mlma-fr", null)]
    [InlineData("davidson", null)]
    public void Real_posts_per_script_tokenise_featurise_and_get_their_language(string set, string? lang)
    {
        var h = new FeatureHasher();
        var texts = Corpus.Texts(set, 200);
        Assert.True(texts.Count >= 100);
        var idx = new int[1024];
        var val = new float[1024];
        int detected = 0, featurised = 0;
        foreach (var text in texts)
        {
            if (ScriptLanguageDetector.Detect(text) == lang) detected++;
            var n = h.Featurize(text, idx, val);
            if (n > 0) featurised++;
            for (var i = 0; i < n; i++) Assert.InRange(idx[i], 0, h.Options.Dimension - 1);
            if (n > 0) Assert.InRange(val.AsSpan(0, n).ToArray().Sum(v => v * v), 0.999f, 1.001f);
        }
        Assert.True(featurised >= 0.98 * texts.Count, $"{featurised}/{texts.Count} featurised");
        Assert.True(detected >= 0.9 * texts.Count, $"{detected}/{texts.Count} detected as {lang ?? "null"}");
    }

    [Fact]
    public void Script_detector_maps_unique_scripts()
    {
        Assert.Equal("ta", ScriptLanguageDetector.Detect("வணக்கம்"));
        Assert.Equal("hi", ScriptLanguageDetector.Detect("नमस्ते"));
        Assert.Equal("th", ScriptLanguageDetector.Detect("สวัสดี"));
        Assert.Equal("km", ScriptLanguageDetector.Detect("សួស្តី"));
        Assert.Null(ScriptLanguageDetector.Detect("hello"));
        Assert.Null(ScriptLanguageDetector.Detect("123 !!!"));
        Assert.Null(ScriptLanguageDetector.Detect(""));
    }

    /// <summary>The detector's per-code-unit table gives, for every BMP letter and mark, the first range that holds it.</summary>
    [Fact]
    public void Script_lookup_table_agrees_with_the_ranges_for_every_bmp_letter()
    {
        var letters = 0;
        for (var c = 0x80; c <= 0xFFFF; c++)
        {
            var ch = (char)c;
            if (char.IsSurrogate(ch)) continue;
            var cat = char.GetUnicodeCategory(ch);
            if (!char.IsLetter(ch) && cat is not (System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark)) continue;
            letters++;
            string? expected = null;
            foreach (var (lo, hi, lang) in ScriptLanguageDetector.Ranges)
                if (c >= lo && c <= hi) { expected = lang; break; }
            Assert.True(expected == ScriptLanguageDetector.Detect(ch.ToString()), $"U+{c:X4}: expected {expected ?? "null"}");
        }
        Assert.True(letters > 40_000, $"{letters} letters");
    }
}
