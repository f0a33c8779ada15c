using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Tests;

public class FeatureTests
{
    [Theory]
    [InlineData(FeaturizerOptions.AlgorithmV2)]
    [InlineData(FeaturizerOptions.AlgorithmV3)]
    public void Describe_lists_word_ngrams_with_the_indices_and_signs_featurize_uses(string algorithm)
    {
        var o = new FeaturizerOptions { Algorithm = algorithm, CharNgramMax = 0, L2Normalize = false };
        var h = new FeatureHasher(o);
        const string text = "Go home now, go home";
        var idx = new int[64];
        var val = new float[64];
        var n = h.Featurize(text, idx, val);
        var described = h.Describe(text);
        Assert.Contains(described, d => d.Ngram == "go home");
        var featurised = Enumerable.Range(0, n).Select(i => (idx[i], val[i])).ToList();
        if (algorithm == FeaturizerOptions.AlgorithmV3)
        {
            // v3 writes the n-grams as they come, one entry each: exactly the described ones, in order.
            Assert.Equal(described.Select(d => (d.Index, d.Sign)).ToList(), featurised);
            return;
        }
        // v2: summing the described signs per index gives exactly the featurised values.
        var expected = described.GroupBy(d => d.Index).Select(g => (g.Key, g.Sum(d => d.Sign))).Where(p => p.Item2 != 0).OrderBy(p => p.Key).ToList();
        Assert.Equal(expected, featurised);
    }

    /// <summary>
    /// The two algorithms hash word n-grams and character n-grams differently but must agree on what a linear model
    /// sees when nothing collides: the same number of n-grams with the same multiplicities, and, unscaled, every
    /// v3 index's summed value has the magnitude of the v2 index it stands for. Checked on real sentences by pairing
    /// the described word n-grams and by counting entries.
    /// </summary>
    [Fact]
    public void V3_writes_one_entry_per_ngram_and_scales_to_unit_norm()
    {
        var v2 = new FeatureHasher(new FeaturizerOptions { Algorithm = FeaturizerOptions.AlgorithmV2, L2Normalize = false, Signed = false });
        var v3 = new FeatureHasher(new FeaturizerOptions { L2Normalize = false, Signed = false });
        var v3n = new FeatureHasher();
        var idx = new int[1024];
        var val = new float[1024];
        var checkedTexts = 0;
        foreach (var text in new[] { "davidson", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" }.SelectMany(d => Corpus.Texts(d, 40)))
        {
            var n2 = v2.Featurize(text, idx, val);
            var total2 = val.AsSpan(0, n2).ToArray().Sum(); // unsigned: each n-gram adds 1 to its index
            var n3 = v3.Featurize(text, idx, val);
            if (n3 >= 1024) continue; // capped: the two caps differ (distinct indices against entries)
            Assert.Equal(total2, n3);
            Assert.All(val[..n3], v => Assert.Equal(1f, v));
            var m = v3n.Featurize(text, idx, val);
            Assert.Equal(n3, m);
            if (m > 0) Assert.Equal(1.0, val.AsSpan(0, m).ToArray().Sum(v => (double)v * v), 4);
            checkedTexts++;
        }
        Assert.True(checkedTexts > 200, $"{checkedTexts} texts");
    }

    /// <summary>
    /// ew-hash-v3 recomputed here from its written definition, one n-gram at a time with no fast path: units in
    /// 64-bit blocks of four, h = (h ^ block) * 0x9E3779B97F4A7C15 from the n-gram's seed, key = the top 19 bits (index
    /// above sign, 2^18 features), value ±1/√(entries). The featuriser's unrolled 3..5 path (its 32-byte word copy and
    /// its exact copy for longer words and words near the text's end; words of one and two letters), its general path
    /// (words longer than its scratch) and its vectorised output must give exactly this.
    /// </summary>
    [Fact]
    public void V3_features_are_the_written_definition()
    {
        var h = new FeatureHasher();
        var texts = new[] { "davidson", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" }.SelectMany(d => Corpus.Texts(d, 30))
            .Concat(Corpus.NormalizerEdgeCases).Append("a bb ccc dddd " + new string('x', 400) + " y")
            .Append("abcdefghijklmnop " + new string('q', 17) + " " + new string('r', 60) + " s " + new string('t', 16)).ToList();
        var idx = new int[1024];
        var val = new float[1024];
        foreach (var text in texts)
        {
            var n = h.Featurize(text, idx, val);
            var expected = ReferenceV3(h.Normalizer.Normalize(text), FeaturizerOptions.Default.Seed);
            if (expected.Count > 1024) expected = expected[..1024];
            Assert.Equal(expected.Count, n);
            var scale = 1f / MathF.Sqrt(n);
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(expected[i] >> 1, idx[i]);
                Assert.Equal((expected[i] & 1) == 0 ? scale : -scale, val[i]);
            }
        }
    }

    private static List<int> ReferenceV3(string norm, long seed)
    {
        const ulong m = 0x9E3779B97F4A7C15UL;
        var wordSeed = TextHash.Finish((ulong)seed);
        var charSeed = TextHash.Finish((ulong)seed ^ 0x5DEECE66DUL);
        static ulong Blocks(ReadOnlySpan<char> units, ulong h)
        {
            for (var i = 0; i < units.Length; i += 4)
            {
                ulong block = 0;
                for (var k = 0; k < 4 && i + k < units.Length; k++) block |= (ulong)units[i + k] << (16 * k);
                h = (h ^ block) * m;
            }
            return h;
        }
        static int Key(ulong h) => (int)(h >> (64 - 19));
        var keys = new List<int>();
        ulong prev = 0;
        var first = true;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var word = norm.AsSpan(tok.Start, tok.Length);
            var w = Blocks(word, wordSeed + (ulong)word.Length);
            keys.Add(Key(w));
            if (!first) keys.Add(Key((((prev ^ charSeed) * m) ^ w) * m));
            prev = w;
            first = false;
            if (tok.Kind != TokenKind.Word) continue;
            var padded = "<" + word.ToString() + ">";
            for (var start = 0; start + 3 <= padded.Length; start++)
                for (var len = 3; len <= 5 && start + len <= padded.Length; len++)
                    keys.Add(Key(Blocks(padded.AsSpan(start, len), TextHash.Finish(charSeed + (ulong)len))));
        }
        return keys;
    }

    /// <summary>
    /// The allocation-free description gives the string one's n-grams, in order, by position; and compares their texts
    /// as ordinal string comparison does, over real sentences of every script and the normaliser's corner cases.
    /// </summary>
    [Fact]
    public void Word_ngrams_by_position_are_the_described_ones_and_compare_as_their_strings()
    {
        var h = new FeatureHasher();
        var texts = Corpus.NormalizerEdgeCases.Concat(new[] { "davidson", "mlma-fr", "mlma-ar", "sinhala", "amharic", "burmese" }
            .SelectMany(d => Corpus.Texts(d, 40))).ToList();
        var pairs = 0;
        foreach (var text in texts)
        {
            var norm = h.Normalizer.Normalize(text);
            var expected = h.DescribeNormalized(norm);
            var ngrams = new WordNgram[FeatureHasher.MaxWordNgrams(norm.Length)];
            var n = h.DescribeNormalized(norm.AsSpan(), ngrams);
            Assert.Equal(expected, ngrams[..n].Select(g => (g.ToString(norm), g.Index, g.Sign)).ToList());
            for (var i = 0; i + 1 < n; i++)
            {
                var j = (i * 7 + 3) % n;
                var want = Math.Sign(string.CompareOrdinal(ngrams[i].ToString(norm), ngrams[j].ToString(norm)));
                Assert.Equal(want, Math.Sign(WordNgram.CompareOrdinal(norm, ngrams[i], ngrams[j])));
                pairs++;
            }
            // A short output span takes what fits.
            if (n > 2) Assert.Equal(2, h.DescribeNormalized(norm.AsSpan(), ngrams.AsSpan(0, 2)));
        }
        Assert.True(pairs > 1000, $"{pairs} comparisons");
    }

    [Fact]
    public void Features_are_deterministic_depend_on_seed_and_fit_the_dimension()
    {
        var a = new FeatureHasher();
        var b = new FeatureHasher(new FeaturizerOptions { Seed = 7 });
        var small = new FeatureHasher(new FeaturizerOptions { Dimension = 1 << 10 });
        const string text = "the same text, twice";
        int[] i1 = new int[1024], i2 = new int[1024], i3 = new int[1024], i4 = new int[1024];
        float[] v = new float[1024];
        var n1 = a.Featurize(text, i1, v);
        var n2 = a.Featurize(text, i2, v);
        var n3 = b.Featurize(text, i3, v);
        var n4 = small.Featurize(text, i4, v);
        Assert.Equal(i1[..n1], i2[..n2]);
        Assert.NotEqual(i1[..n1], i3[..n3]);
        Assert.All(i4[..n4], x => Assert.InRange(x, 0, (1 << 10) - 1));
        Assert.Equal("ew-hash-v3", FeaturizerOptions.Default.Algorithm);
    }

    [Fact]
    public void Output_is_capped_by_the_span_and_max_features()
    {
        var h = new FeatureHasher(new FeaturizerOptions { MaxFeatures = 10 });
        var idx = new int[1024];
        var val = new float[1024];
        Assert.Equal(10, h.Featurize(string.Join(' ', Enumerable.Range(0, 200).Select(i => "word" + (char)('a' + i % 26) + (char)('a' + i / 26))), idx, val));
        Assert.Equal(3, new FeatureHasher().Featurize("many many different words here", idx.AsSpan(0, 3), val.AsSpan(0, 3)));
        Assert.Equal(0, new FeatureHasher().Featurize("", idx, val));
    }

    [Fact]
    public void MinHash_paraphrases_stay_similar_and_unrelated_texts_do_not()
    {
        var m = new MinHasher(128);
        var norm = new TextNormalizer();
        const string a = "vote early tomorrow morning at the school near the river and bring your card";
        const string b = "vote early tomorrow evening at the school near the bridge and bring your id"; // 3 of 15 words changed
        const string c = "the weather in the hills was cold and wet for most of the week";
        var sa = new ulong[128];
        var sb = new ulong[128];
        var sc = new ulong[128];
        m.Compute(norm.Normalize(a), sa);
        m.Compute(norm.Normalize(b), sb);
        m.Compute(norm.Normalize(c), sc);
        var jab = MinHasher.EstimateJaccard(sa, sb);
        Assert.True(jab >= 0.5, $"paraphrase J={jab}");
        Assert.True(MinHasher.EstimateJaccard(sa, sc) < 0.3);
        Assert.Equal(1.0, MinHasher.EstimateJaccard(sa, sa));
        Assert.Equal(0, MinHasher.EstimateJaccard(sa, sb.AsSpan(0, 64)));
    }

    /// <summary>
    /// The signature is defined slot by slot: the minimum over the text's non-URL tokens of fmix64(token hash × odd
    /// salt), salts from a splitmix64 sequence. The computation runs 8 or 4 slots at a time where the CPU allows; on
    /// real multilingual text and sizes that leave a remainder it must give exactly the definition's values.
    /// </summary>
    [Theory]
    [InlineData(64, MinHasher.DefaultSeed)]
    [InlineData(13, 7L)]
    [InlineData(100, -3L)]
    [InlineData(1, MinHasher.DefaultSeed)]
    public void MinHash_slots_equal_the_slot_by_slot_definition(int numHashes, long seed)
    {
        var m = new MinHasher(numHashes, seed);
        var norm = new TextNormalizer();
        var tokenSeed = TextHash.Finish((ulong)seed ^ 0xA5A5A5A5A5A5A5A5UL);
        var salts = new ulong[numHashes];
        var s = (ulong)seed;
        for (var i = 0; i < numHashes; i++) salts[i] = TextHash.Finish(s += 0x9E3779B97F4A7C15UL) | 1;
        var texts = Corpus.Multilingual(40).Select(norm.Normalize).Append("").Append("http://x.example/a only a link")
            .Append(norm.Normalize(string.Join(" ", Corpus.Texts("davidson", 25)))) // a long text (hundreds of tokens)
            .ToList();
        var got = new ulong[numHashes + 3];
        var nonTrivial = 0;
        foreach (var text in texts)
        {
            var expected = Enumerable.Repeat(ulong.MaxValue, numHashes).ToArray();
            foreach (var tok in Tokenizer.Tokenize(text))
            {
                if (tok.Kind == TokenKind.Url) continue;
                var h = TextHash.Hash(text.AsSpan(tok.Start, tok.Length), tokenSeed);
                for (var i = 0; i < numHashes; i++) expected[i] = Math.Min(expected[i], TextHash.Finish(h * salts[i]));
            }
            // The public path, then each width (8 and 4 run in software where the CPU lacks them).
            foreach (var lanes in new[] { -1, 8, 4, 1 })
            {
                got.AsSpan().Fill(42);
                if (lanes < 0) m.Compute(text, got);
                else m.Compute(text, got, lanes);
                Assert.Equal(expected, got[..numHashes]);
                Assert.Equal([42UL, 42UL, 42UL], got[numHashes..]); // slots past the signature are left alone
            }
            if (expected[0] != ulong.MaxValue) nonTrivial++;
        }
        Assert.True(nonTrivial > 100, $"only {nonTrivial} texts had tokens");
    }

    [Fact]
    public void MinHash_estimate_tracks_true_jaccard_on_real_text()
    {
        var m = new MinHasher();
        var norm = new TextNormalizer();
        var texts = Corpus.Texts("davidson", 60).Select(norm.Normalize).ToList();
        var errors = new List<double>();
        for (var i = 0; i + 1 < texts.Count; i += 2)
        {
            // A paraphrase: the same post with its last word replaced.
            var words = texts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 8) continue;
            var para = string.Join(' ', words[..^1]) + " zzqx";
            var s1 = new ulong[64];
            var s2 = new ulong[64];
            m.Compute(texts[i], s1);
            m.Compute(para, s2);
            Assert.True(MinHasher.EstimateJaccard(s1, s2) >= 0.5);
        }
    }

    [Fact]
    public void SimHash_near_duplicates_are_closer_than_unrelated_texts()
    {
        var x = SimHasher.Compute("vote early tomorrow morning at the school near the river and bring your card");
        var y = SimHasher.Compute("vote early tomorrow morning at the school near the river and bring your id");
        var z = SimHasher.Compute("the weather in the hills was cold and wet for most of the week");
        Assert.True(SimHasher.HammingDistance(x, y) < SimHasher.HammingDistance(x, z));
        Assert.True(SimHasher.HammingDistance(x, y) <= 12);
        Assert.Equal(0UL, SimHasher.Compute(""));
    }
}

public class FeaturizerOptionTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(0, 2)]
    [InlineData(2, 1)]
    [InlineData(3, 3)]
    public void Word_ngram_ranges_the_algorithm_does_not_hash_are_refused_not_narrowed(int min, int max)
    {
        var e = Assert.Throws<ArgumentException>(() => new FeatureHasher(FeaturizerOptions.Default with { WordNgramMin = min, WordNgramMax = max }));
        Assert.Contains("Word n-gram range", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    public void Unigrams_alone_and_bigrams_alone_are_different_feature_sets(int min, int max)
    {
        var one = new FeatureHasher(FeaturizerOptions.Default with { WordNgramMin = min, WordNgramMax = max, CharNgramMin = 0, CharNgramMax = 0 });
        var both = new FeatureHasher(FeaturizerOptions.Default with { CharNgramMin = 0, CharNgramMax = 0 });
        var idx = new int[64];
        var val = new float[64];
        const string text = "they gather at the station tonight";
        var n1 = one.Featurize(text, idx, val);
        var n2 = both.Featurize(text, idx, val);
        // Six words: six unigrams, five bigrams.
        Assert.Equal(min == 1 ? 6 : 5, n1);
        Assert.Equal(11, n2);
    }
}
