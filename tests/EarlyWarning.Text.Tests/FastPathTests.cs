using System.Globalization;
using CsCheck;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Internal;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Tests;

/// <summary>The throughput work's building blocks agree with the slow definitions they replace.</summary>
public class FastPathTests
{
    [Fact]
    public void Char_table_matches_the_dotnet_predicates_for_every_utf16_unit()
    {
        var mismatches = 0;
        for (var i = 0; i <= 0xFFFF; i++)
        {
            var c = (char)i;
            var cat = CharUnicodeInfo.GetUnicodeCategory(c);
            var mark = cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
            if (CharTable.Has(c, CharTable.Letter) != char.IsLetter(c)) mismatches++;
            if (CharTable.Has(c, CharTable.Mark) != mark) mismatches++;
            if (CharTable.Has(c, CharTable.AsciiDigit) != char.IsAsciiDigit(c)) mismatches++;
            if (CharTable.ToLower(c) != char.ToLowerInvariant(c)) mismatches++;
            if (i >= 0x80 && CharTable.Has(c, CharTable.WordChar) != (char.IsLetterOrDigit(c) || mark || c is '\u200C' or '\u200D')) mismatches++;
        }
        Assert.Equal(0, mismatches);
        // Spot checks that the table is not trivially empty or full.
        Assert.True(CharTable.Has('\u0DC3', CharTable.Letter) && CharTable.Has('\u0DCA', CharTable.Mark));
        Assert.True(CharTable.Has('\u200B', CharTable.Invisible) && !CharTable.Has('a', CharTable.Invisible));
        Assert.True(CharTable.Has('\u0E01', CharTable.NoSpaceLetter) && !CharTable.Has('\u1000', CharTable.NoSpaceLetter));
        Assert.Equal('ж', CharTable.ToLower('Ж'));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(11)]
    [InlineData(27)]
    public void Key_sort_sorts_like_array_sort(int bits)
    {
        var sizes = Gen.OneOf(Gen.Int[0, 60], Gen.Int[60, 3000]);
        Gen.Select(sizes, Gen.Int[0, int.MaxValue], Gen.Bool).Sample((n, seed, fewDistinct) =>
        {
            var rng = new Random(seed);
            var limit = fewDistinct ? Math.Min(8, 1 << bits) : 1 << bits;
            var keys = new int[n];
            for (var i = 0; i < n; i++) keys[i] = rng.Next(limit);
            var expected = (int[])keys.Clone();
            Array.Sort(expected);
            var result = KeySort.Sort(keys, new int[n], bits);
            Assert.Equal(expected, result.ToArray());
        }, iter: 300);
    }

    [Fact]
    public void Sorting_network_sorts_like_array_sort()
    {
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, SimdKeySort.IsSupported);
        if (!SimdKeySort.IsSupported) return; // Featurize takes the radix sort, which the test above covers
        // Every size up to the limit crosses each padding step (64, 128, ... 1024) and each in-register merge level.
        var sizes = Gen.OneOf(Gen.Int[0, 70], Gen.Int[0, SimdKeySort.MaxKeys]);
        Gen.Select(sizes, Gen.Int[0, int.MaxValue], Gen.Int[0, 3]).Sample((n, seed, spread) =>
        {
            var rng = new Random(seed);
            var buffer = new int[SimdKeySort.PaddedLength(n)];
            for (var i = 0; i < n; i++)
                buffer[i] = spread switch
                {
                    0 => rng.Next(4),                               // few distinct values: long runs of equal keys
                    1 => rng.Next(1 << 19),                         // the default model's key range
                    2 => int.MaxValue - rng.Next(3),                // keys equal to or beside the padding value
                    _ => rng.Next(),
                };
            var expected = buffer[..n];
            Array.Sort(expected);
            SimdKeySort.Sort(buffer, n);
            Assert.Equal(expected, buffer[..n]);
        }, iter: 2000);
    }

    [Fact]
    public void Branch_free_merge_equals_the_merge_it_replaces()
    {
        // Sorted keys with duplicates and signed cancellations, into outputs wide enough for every key and into
        // narrower ones (where only the lowest indices are kept).
        Gen.Select(Gen.Int[0, 400], Gen.Int[1, 500], Gen.Int[1, 64], Gen.Int[0, int.MaxValue]).Sample((n, width, distinct, seed) =>
        {
            var rng = new Random(seed);
            var keys = new int[n];
            for (var i = 0; i < n; i++) keys[i] = rng.Next(distinct) << 1 | rng.Next(2);
            Array.Sort(keys);
            int[] i1 = new int[width], i2 = new int[width];
            float[] v1 = new float[width], v2 = new float[width];
            var n1 = FeatureHasher.Merge(keys, i1, v1);
            var n2 = FeatureHasher.MergeSorted(keys, i2, v2, ThreadScratch.Current);
            Assert.Equal(n1, n2);
            Assert.Equal(i1[..n1], i2[..n2]);
            Assert.Equal(v1[..n1], v2[..n2]);
        }, iter: 3000);
    }

    // ASCII text takes the vectorised path; a non-ASCII suffix behind a newline (which no step joins across) forces
    // the general path for the same text, so both must agree on the shared prefix.
    private static readonly Gen<string> AsciiTricky = Gen.OneOfConst(
            'a', 'b', 'k', 'l', 'I', 'K', 'O', '0', '1', '3', '4', '7', '@', '$', '!', '|', ' ', ' ', '.', '-', '_', '*',
            '#', '\'', '\n', '\t', '\u0001', '\u007F', 'h', 't', 'p', ':', '/', 'w', 'Z')
        .Array[0, 120].Select(a => new string(a));

    [Fact]
    public void Ascii_fast_path_equals_the_general_path()
    {
        var normalizer = new TextNormalizer();
        const string suffix = "\n\u0915\u093F";
        AsciiTricky.Sample(s =>
        {
            var fast = normalizer.Normalize(s);
            var general = normalizer.Normalize(s + suffix);
            Assert.Equal(fast + suffix, general);
        }, iter: 3000);
    }

    // Letters (Latin, Cyrillic look-alikes, Sinhala), digits, l33t symbols, spacers, repeats and separators, mixed.
    private static readonly Gen<string> WordTricky = Gen.OneOfConst(
            'a', 'k', 'l', 'l', 'i', 'о', 'е', 'і', 'ᴋ', 'ස', 'ි', '0', '1', '3', '9', '@', '$', '!', '|', ' ', ' ', '.', '-',
            '_', '*', '·', '#', '\'', '\n', ',', '“', 'x', 'x')
        .Array[0, 90].Select(a => new string(a));

    [Fact]
    public void Word_folding_that_jumps_between_matches_equals_the_full_word_scan()
    {
        Gen.Select(WordTricky, Gen.Bool, Gen.Bool).Sample((text, homoglyphs, leet) =>
        {
            var jumped = text.ToCharArray();
            TextNormalizer.FoldWords(jumped, homoglyphs, leet);
            var full = text.ToCharArray();
            for (var i = 0; i < full.Length;) i = TextNormalizer.FoldWordAt(full, i, homoglyphs, leet);
            Assert.Equal(new string(full), new string(jumped));
        }, iter: 5000);
    }

    [Fact]
    public void Vectorised_repeat_and_spacer_scans_equal_their_scalar_definitions()
    {
        WordTricky.Sample(text =>
        {
            var spaced = false;
            for (var p = 0; p + 2 < text.Length; p++)
                spaced |= text[p] == text[p + 2] && TextNormalizer.IsSpacer(text[p]) && TextNormalizer.MayBeJoinableLetter(text[p + 1])
                    && TextNormalizer.ChainMayStartBefore(text, p);
            Assert.Equal(spaced, TextNormalizer.MayHaveSpacedLetters(text));
            // The check is only a filter: whenever it says no, joining spaced letters must change nothing.
            if (!spaced)
            {
                var copy = text.ToCharArray();
                Assert.Equal(text.Length, TextNormalizer.JoinSpacedLettersAlways(copy));
                Assert.Equal(text, new string(copy));
            }

            // Collapse from the first repeat on must equal the loop run from the start.
            var expected = new System.Text.StringBuilder();
            var last = '\0';
            var run = 0;
            foreach (var c in text)
            {
                if (c == last && (CharTable.Of(c) & (CharTable.LetterLike | CharTable.Mark)) == CharTable.LetterLike)
                {
                    run++;
                    if (c < '\u0530' || run >= 2) continue;
                }
                else run = 0;
                expected.Append(c);
                last = c;
            }
            var buffer = text.ToCharArray();
            var n = TextNormalizer.CollapseRepeats(buffer);
            Assert.Equal(expected.ToString(), new string(buffer, 0, n));
        }, iter: 5000);
    }

    // Single letters, short words and spacers: texts where spaced-letter chains start, stop and nearly occur. Pieces
    // alternate between mostly letters and mostly the text's one spacer (a chain needs the same one throughout).
    private static readonly string[] SpacedPieces = ["k", "i", "l", "a", "é", "ж", "ab", "x1", "1", "ड", "\n", " ", "."];
    private static readonly Gen<string> SpacedTricky = Gen.Select(
            Gen.OneOfConst(" ", ".", "-", "*", "_", "·"), Gen.Int[0, 2 * SpacedPieces.Length].Array[0, 30])
        .Select((spacer, picks) => string.Concat(picks.Select((k, j) =>
            j % 2 == 1 && k >= SpacedPieces.Length / 2 ? spacer : SpacedPieces[k % SpacedPieces.Length])));

    [Fact]
    public void Spaced_letter_filter_never_skips_a_text_the_join_would_change()
    {
        int filtered = 0, joined = 0;
        SpacedTricky.Sample(text =>
        {
            var copy = text.ToCharArray();
            var n = TextNormalizer.JoinSpacedLettersAlways(copy);
            var changed = n != text.Length || new string(copy, 0, n) != text;
            if (changed) Interlocked.Increment(ref joined);
            if (!TextNormalizer.MayHaveSpacedLetters(text))
            {
                Interlocked.Increment(ref filtered);
                Assert.False(changed, $"filter said no to '{text}'");
            }
        }, iter: 20_000);
        Assert.True(filtered > 2_000 && joined > 2_000, $"{filtered} filtered, {joined} joined");
        Assert.False(TextNormalizer.MayHaveSpacedLetters("i have a dog and a cat"));
        Assert.True(TextNormalizer.MayHaveSpacedLetters("you k i l l"));
    }

    [Fact]
    public void Token_class_table_matches_the_tokeniser_definitions_for_every_utf16_unit()
    {
        // The tokeniser's rules, restated: an ASCII letter, digit, '#' or '@' starts a token; a non-ASCII unit starts
        // one when it is a word character, an emoji or Burmese; a word goes on over ASCII letters, digits and '_' and
        // over non-ASCII word characters outside Burmese and the scripts written without spaces. Surrogates and the
        // apostrophe depend on their neighbours.
        static bool Emoji(char c) => c is >= '\u2600' and <= '\u27BF' or >= '\u2B00' and <= '\u2BFF' or '\u00A9' or '\u00AE' or '\u203C' or '\u2049';
        var mismatches = new List<string>();
        for (var u = 0; u <= 0xFFFF; u++)
        {
            var c = (char)u;
            var f = TokenEnumerator.Classes[u];
            byte expected;
            if (char.IsSurrogate(c) || c == '\'') expected = TokenEnumerator.Slow;
            else
            {
                var word = c < '\u0080' ? char.IsAsciiLetterOrDigit(c) || c == '_' : CharTable.Has(c, CharTable.WordChar);
                var noSpace = CharTable.Has(c, CharTable.NoSpaceLetter);
                var start = c < '\u0080' ? char.IsAsciiLetterOrDigit(c) || c is '#' or '@' : word || Emoji(c) || Burmese.IsRunChar(c);
                var cont = word && !Burmese.IsRunChar(c) && !noSpace;
                expected = 0;
                if (start) expected |= TokenEnumerator.Start;
                if (cont) expected |= TokenEnumerator.Continue;
                if (cont && !char.IsAsciiDigit(c)) expected |= TokenEnumerator.NotDigit;
                if (start && (Burmese.IsRunChar(c) || noSpace || c is '#' or '@' || Emoji(c))) expected |= TokenEnumerator.Special;
                if (Burmese.IsRunChar(c)) expected |= TokenEnumerator.BurmeseRun;
                if (Burmese.IsDigit(c)) expected |= TokenEnumerator.BurmeseDigit;
                if (Burmese.IsSyllableStart(c)) expected |= TokenEnumerator.SyllableStart;
            }
            if (f != expected) mismatches.Add($"U+{u:X4}: {f} != {expected}");
        }
        Assert.Empty(mismatches);
        Assert.Equal(TokenEnumerator.Start | TokenEnumerator.Continue | TokenEnumerator.NotDigit, TokenEnumerator.Classes['k']);
        // Burmese ka starts a (special) token, a syllable and a Burmese run, and does not continue a plain word.
        Assert.Equal(TokenEnumerator.Start | TokenEnumerator.Special | TokenEnumerator.BurmeseRun | TokenEnumerator.SyllableStart, TokenEnumerator.Classes['\u1000']);
    }

    // Myanmar letters, medials, vowel signs, asat, virama, dot below, digits and a few non-Burmese units.
    private static readonly Gen<string> BurmeseTricky = Gen.OneOfConst(
            '\u1000', '\u1001', '\u1014', '\u1019', '\u101B', '\u1021', '\u1023', '\u1025', '\u102C', '\u102D', '\u102F',
            '\u1031', '\u1036', '\u1037', '\u1038', '\u1039', '\u103A', '\u103B', '\u103C', '\u1040', '\u1045', '\u104C',
            '\u104E', '\u1050', '\u1090', '\uAA60', '\uA9E0', '\uA9F0')
        .Array[1, 40].Select(a => new string(a));

    [Fact]
    public void Table_driven_syllable_breaks_equal_the_burmese_rules()
    {
        BurmeseTricky.Sample(s =>
        {
            for (var start = 0; start < s.Length; start++)
                Assert.Equal(Burmese.NextSyllableEnd(s, start, s.Length), TokenEnumerator.SyllableEnd(s, start, s.Length));
        }, iter: 3000);
        var norm = new TextNormalizer();
        var syllables = 0;
        foreach (var text in Corpus.Texts("burmese", 300))
        {
            var s = norm.Normalize(text);
            for (var start = 0; start < s.Length; start++)
            {
                if (!Burmese.IsRunChar(s[start])) continue;
                var end = start + 1;
                while (end < s.Length && Burmese.IsRunChar(s[end])) end++;
                Assert.Equal(Burmese.NextSyllableEnd(s, start, end), TokenEnumerator.SyllableEnd(s, start, end));
                syllables++;
            }
        }
        Assert.True(syllables > 5_000, $"{syllables} syllable starts checked");
    }

    // Units the fused pass treats differently: ASCII and C1 controls, invisible characters, surrogate halves, marks in
    // and out of canonical order, composing pairs (Latin, Sinhala), NFKC-unstable units, Myanmar (Unicode and
    // Zawgyi-looking), cased letters of several scripts.
    private static readonly Gen<string> FusedTricky = Gen.OneOfConst(
            'a', 'Z', ' ', '\n', '\t', '\u0001', '\u007F', '\u0085', '\u009F', '\u00A0', '\u00AD', '\u200B', '\u200D', '\uFEFF',
            '\u202E', '\uFE0F', '\u0301', '\u0323', '\u0308', 'A', 'e', '\u0DD9', '\u0DCA', '\u0DCF', '\u0D9A', '\u0DC3',
            '\uFF21', '\u2026', '\uFB01', '\u1000', '\u103A', '\u1037', '\u1031', '\u103B', '\u1039', '\u106A', '\u1033',
            '\u10A0', '\u0130', '\u0416', '\u03A3', '\u0644', '\u064E', '\u0651', '\u1200', '\uD83D', '\uDE00', '\uD835',
            '\uDC00', '\u1100', '\u1161', '\uAC00', '\u11A8', '\u0915', '\u093C', '\u1D2C', '\u00BD', '\u2002', '\u2126',
            '\uFFC2', '\u00B2', '\u00E2', '\u1EA1', '\u031B', '\u00EA')
        .Array[0, 60].Select(a => new string(a));

    [Fact]
    public void Fused_pass_equals_the_general_path_whenever_it_answers()
    {
        var normalizer = new TextNormalizer();
        int answered = 0, declined = 0;
        void Check(string s) // CsCheck samples on several threads: buffers per call, counts by Interlocked
        {
            var general = new char[TextNormalizer.MaxOutputLength(s.Length)];
            Assert.Equal(System.Buffers.OperationStatus.Done, normalizer.NormalizeGeneral(s, general, out var g, ThreadScratch.Current));
            // With room for NFKC's expansions ("…" is three units), and with exactly the input's length.
            var tight = new char[s.Length];
            if (normalizer.TryFusedPass(s, tight, out var t, out _)) Assert.Equal(new string(general, 0, g), new string(tight, 0, t));
            var roomy = new char[TextNormalizer.MaxOutputLength(s.Length)];
            if (!normalizer.TryFusedPass(s, roomy, out var f, out _)) { Interlocked.Increment(ref declined); return; }
            Interlocked.Increment(ref answered);
            Assert.Equal(new string(general, 0, g), new string(roomy, 0, f));
        }
        FusedTricky.Sample(Check, iter: 20_000);
        Assert.True(answered > 2_000 && declined > 2_000, $"{answered} answered, {declined} declined");
        // Real posts: most take the fused pass, and every one that does gets the general path's text.
        answered = declined = 0;
        foreach (var set in new[] { "davidson", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" })
            foreach (var text in Corpus.Texts(set, 300))
                Check(text);
        Assert.True(answered > 4 * declined, $"{answered} answered, {declined} declined");
    }

    [Fact]
    public void Fused_pass_reports_every_text_it_writes_a_homoglyph_range_unit_into()
    {
        // Homoglyph folding is skipped when the fused pass saw nothing in its ranges: whatever a unit becomes (its
        // lower case, its NFKC expansion), a unit of the ranges in the output must be reported.
        static bool InRanges(char c) => c is >= '\u0131' and <= '\u052F' or >= '\u1D00' and <= '\u1D22';
        var normalizer = new TextNormalizer();
        var buf = new char[64];
        int reported = 0, answered = 0;
        for (var u = 0x80; u <= 0xFFFF; u++)
        {
            var text = "a" + (char)u + "b";
            if (!normalizer.TryFusedPass(text, buf, out var n, out var confusable)) continue;
            answered++;
            var holds = buf.AsSpan(0, n).ToArray().Any(InRanges);
            if (holds) Assert.True(confusable, $"U+{u:X4}");
            if (confusable) reported++;
        }
        Assert.True(answered > 40_000 && reported > 1_000, $"{answered} answered, {reported} reported");
    }

    [Fact]
    public void Lower_case_never_moves_a_unit_into_or_out_of_the_zawgyi_models_states()
    {
        // The fused pass runs the Zawgyi detector on case-folded text; the general path on the text before folding.
        // The detector's states are the Myanmar blocks and U+2000..U+200B; everything else is one state.
        static bool InStates(char c) => c is >= '\u1000' and <= '\u109F' or >= '\uAA60' and <= '\uAA7F' or >= '\uA9E0' and <= '\uA9FF' or >= '\u2000' and <= '\u200B';
        var cased = 0;
        for (var u = 0; u <= 0xFFFF; u++)
        {
            var c = (char)u;
            var lower = CharTable.ToLower(c);
            if (lower == c) continue;
            cased++;
            Assert.False(InStates(c) || InStates(lower), $"U+{u:X4} -> U+{(int)lower:X4}");
        }
        Assert.True(cased > 1_000, $"{cased} cased units");
        // Nor do the NFKC expansions the fused pass writes itself (U+2000..U+200B are left to the general path).
        var entries = NfkcSimpleData.Entries;
        var expansions = 0;
        for (var k = 0; k < entries.Length; k += 3)
        {
            var c = (char)entries[k];
            if (c is >= '\u2000' and <= '\u200B') continue;
            expansions++;
            Assert.False(InStates(c), $"U+{(int)c:X4}");
            foreach (var x in NfkcSimpleData.Pool.AsSpan(entries[k + 1], entries[k + 2])) Assert.False(InStates(x), $"U+{(int)c:X4} -> U+{(int)x:X4}");
        }
        Assert.True(expansions > 500, $"{expansions} expansions");
    }

    [Fact]
    public void Long_texts_past_the_thread_buffers_featurise_like_their_normalised_form()
    {
        // 20k chars: past ThreadScratch.CharCapacity, so Featurize rents; the result must equal featurising the
        // normalised text directly (which also rents for its keys).
        var h = new FeatureHasher();
        var text = string.Join(" ", Corpus.Texts("davidson", 300));
        Assert.True(text.Length > ThreadScratch.CharCapacity);
        int[] i1 = new int[1024], i2 = new int[1024];
        float[] v1 = new float[1024], v2 = new float[1024];
        var n1 = h.Featurize(text, i1, v1);
        var n2 = h.FeaturizeNormalized(h.Normalizer.Normalize(text), i2, v2);
        Assert.True(n1 > 500);
        Assert.Equal(i2[..n2], i1[..n1]);
        Assert.Equal(v2[..n2], v1[..n1]);
    }
}
