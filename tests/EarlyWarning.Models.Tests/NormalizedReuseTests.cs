using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;
using EarlyWarning.Models.Training;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Tests;
using EarlyWarning.Text.Tests;

namespace EarlyWarning.Models.Tests;

/// <summary>
/// The classifier normalises each post once and reuses the text for features, lexicon and explanations (and hands it
/// back to the pipeline): on real multilingual text every piece must equal what the raw-text APIs give, bit for bit.
/// </summary>
public sealed class NormalizedReuseTests
{
    /// <summary>Real text from ../shared/data plus edge cases for the normaliser (obfuscation, invisibles, long text).</summary>
    internal static List<string> Texts()
    {
        var texts = Corpus.Multilingual(120);
        texts.AddRange(Corpus.NormalizerEdgeCases);
        return texts;
    }

    private static PostClassifier Default() =>
        PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));

    [Fact]
    public void Features_from_the_shared_normalised_text_give_bit_identical_probabilities_and_explanation_ngrams()
    {
        using var pc = Default();
        var texts = Texts();
        Assert.True(texts.Count > 800, "the shared corpus should supply real text");
        Assert.True(pc.Model.AcceptsNormalized(pc.TextNormalization), "the default model featurises with the lexicon's normalisation");
        var norm = texts.Select(t => pc.Lexicon.Normalize(t)).ToList();

        var c = pc.Model.Classes;
        var raw = new float[texts.Count * c];
        var reused = new float[texts.Count * c];
        pc.Model.Predict(texts, raw);
        pc.Model.PredictNormalized(norm, reused);
        for (var i = 0; i < raw.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(raw[i]), BitConverter.SingleToInt32Bits(reused[i]));

        for (var i = 0; i < texts.Count; i++)
            Assert.Equal(pc.Model.Hasher.Describe(texts[i]), pc.Model.Hasher.DescribeNormalized(norm[i]));
    }

    [Fact]
    public void ClassifyBatch_hands_back_the_lexicon_normalised_text_and_the_same_decisions_as_without_it()
    {
        using var pc = Default();
        var texts = Texts();
        PostEnvelope[] Batch() => [.. texts.Select((t, i) => new PostEnvelope
        {
            Post = new Post { Id = "p" + i, CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = t },
            Position = new SourcePosition("test", i),
        })];
        var plain = Batch();
        var withText = Batch();
        var normalized = new string[texts.Count + 3];
        pc.ClassifyBatch(plain);
        pc.ClassifyBatch(withText, normalized);

        var flagged = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(pc.Lexicon.Normalize(texts[i]), normalized[i]);
            var a = plain[i].Decision!;
            var b = withText[i].Decision!;
            Assert.Equal(a.Label, b.Label);
            Assert.Equal(a.Scores.Select(BitConverter.SingleToInt32Bits), b.Scores.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(a.Terms, b.Terms);
            Assert.Equal(a.Explanation, b.Explanation);
            Assert.Equal(a.Target, b.Target);
            Assert.Equal(a.Incitement, b.Incitement);
            Assert.Equal(a.Dehumanisation, b.Dehumanisation);
            if (a.IsFlagged)
            {
                flagged++;
                // The explanation's n-grams are what a plain ranking of Describe over the raw text gives, and what the
                // public raw-text API gives.
                var label = a.Label == Labels.None ? Labels.Hate : a.Label;
                var expected = ReferenceTopNgrams(pc, texts[i], label, PostClassifier.ExplanationNgrams);
                Assert.Equal(expected, a.Explanation.Where(x => !x.StartsWith("lexicon:", StringComparison.Ordinal)));
                Assert.Equal(expected, pc.TopNgrams(texts[i], Array.IndexOf(Labels.All, label), PostClassifier.ExplanationNgrams));
            }
        }
        Assert.True(flagged > 20, $"only {flagged} flagged posts: the explanation path was hardly exercised");
        Assert.Null(normalized[texts.Count]);
        Assert.Throws<ArgumentException>(() => pc.ClassifyBatch(Batch(), new string[1]));
    }
    [Fact]
    public void Explanations_use_the_featurisers_normalisation_when_it_differs_from_the_lexicons()
    {
        // A model whose features keep l33t digits and repeated letters: the lexicon's normalised text is not its text.
        var features = TestModels.SmallFeatures with
        {
            Normalization = NormalizationSteps.Default & ~(NormalizationSteps.Leet | NormalizationSteps.CollapseRepeats),
        };
        var rng = new Random(5);
        var m = new LinearModel(features.Dimension, 3);
        for (var i = 0; i < m.Weights.Length; i++) m.Weights[i] = (float)(rng.NextDouble() * 4 - 2);
        var dir = TestPaths.NewTempDir("ew-models");
        TestModels.Write(dir, m, features, [-9, -9, 9]); // every post flagged hate
        using var pc = PostClassifier.Load(dir, TestModels.ShippedLexiconDir);
        Assert.False(pc.Model.AcceptsNormalized(pc.TextNormalization));

        var texts = Texts();
        var decisions = pc.ClassifyTexts(texts);
        var differ = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = ReferenceTopNgrams(pc, texts[i], Labels.Hate, PostClassifier.ExplanationNgrams);
            Assert.Equal(expected, decisions[i].Explanation.Where(x => !x.StartsWith("lexicon:", StringComparison.Ordinal)));
            if (pc.Model.Hasher.Normalizer.Normalize(texts[i]) != pc.Lexicon.Normalize(texts[i])) differ++;
        }
        Assert.True(differ > 10, $"only {differ} texts normalise differently: the case was hardly exercised");
    }

    /// <summary>
    /// The ranking the explanations promise, written the obvious way: every word n-gram of the raw text with its
    /// contribution towards <paramref name="label"/> against none (weight difference times sign), positive ones only,
    /// one per distinct text, largest first, ties by ordinal text.
    /// </summary>
    private static List<string> ReferenceTopNgrams(PostClassifier pc, string text, string label, int count)
    {
        var w = pc.Model.Weights!;
        var labels = pc.Model.Manifest.Labels;
        int at = labels.IndexOf(label), none = labels.IndexOf(Labels.None);
        var best = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var (ngram, index, sign) in pc.Model.Hasher.Describe(text))
        {
            var row = index * w.Classes;
            var contribution = sign * (w.Weights[row + at] - w.Weights[row + none]);
            if (contribution > 0 && (!best.TryGetValue(ngram, out var old) || contribution > old)) best[ngram] = contribution;
        }
        return [.. best.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(count).Select(kv => kv.Key)];
    }
}
