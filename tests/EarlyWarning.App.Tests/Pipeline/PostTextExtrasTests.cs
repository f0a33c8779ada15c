using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Serving;
using EarlyWarning.Tests;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tests;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.App.Tests.Pipeline;

/// <summary>
/// The classify stage computes MinHash signatures and token hashes from the text the classifier already normalised
/// (no second normalisation). On real multilingual text from ../shared/data they must equal, bit for bit, what the
/// stage computed before: its own normalisation of the raw text, then MinHash and the token loop.
/// </summary>
public sealed class PostTextExtrasTests
{
    private static List<string> Texts()
    {
        var texts = Corpus.Multilingual(150);
        texts.AddRange(Corpus.NormalizerEdgeCases);
        return texts;
    }

    // The stage's code before the reuse (PipelineRunner.ClassifyAsync + TokenizeInto at commit 16d34fe).
    private static (ulong[] MinHash, ulong[] TokenHashes, string[]? Tokens) OldPath(string text, bool withStrings)
    {
        var normalizer = new TextNormalizer();
        var norm = new char[TextNormalizer.MaxOutputLength(text.Length)];
        normalizer.Normalize(text, norm, out var n);
        var span = norm.AsSpan(0, n);
        var sig = new ulong[64];
        new MinHasher().Compute(span, sig);
        var hashes = new List<ulong>();
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in Tokenizer.Tokenize(span))
        {
            if (t.Kind is not (TokenKind.Word or TokenKind.Hashtag or TokenKind.Syllable) || t.Length < 3) continue;
            hashes.Add(TokenHash.Of(span.Slice(t.Start, t.Length)));
            if (withStrings) words.Add(span.Slice(t.Start, t.Length).ToString());
        }
        return (sig, [.. hashes.Distinct().Order()], withStrings ? [.. words] : null);
    }

    [Fact]
    public void Signatures_and_token_hashes_from_the_classifiers_normalised_text_equal_the_old_double_normalised_path()
    {
        using var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
        Assert.Equal(PostTextExtras.Steps, classifier.TextNormalization);
        var texts = Texts();
        Assert.True(texts.Count > 1000, "the shared corpus should supply real text");
        var batch = texts.Select((t, i) => new PostEnvelope
        {
            Post = new Post { Id = "p" + i, CreatedAt = DateTimeOffset.UnixEpoch, AuthorId = "u:1", Text = t },
            Position = new SourcePosition("test", i),
        }).ToList();
        var normalized = new string[batch.Count];
        classifier.ClassifyBatch(batch, normalized);

        var reused = new PostTextExtras();
        var raw = new PostTextExtras();
        var withStrings = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            // Every other post with token strings too, whatever its decision, so both branches see every language.
            var strings = i % 2 == 0 || e.Decision!.IsFlagged;
            if (strings) withStrings++;
            reused.Fill(e, normalized[i], strings);
            var fromNormalized = (e.MinHash!, e.TokenHashes!, e.Tokens);
            e.Tokens = null;
            raw.FillFromRaw(e, strings);
            var old = OldPath(texts[i], strings);

            Assert.Equal(old.MinHash, fromNormalized.Item1);
            Assert.Equal(old.TokenHashes, fromNormalized.Item2);
            Assert.Equal(old.Tokens, fromNormalized.Tokens);
            Assert.Equal(old.MinHash, e.MinHash);
            Assert.Equal(old.TokenHashes, e.TokenHashes);
            Assert.Equal(old.Tokens, e.Tokens);
        }
        Assert.True(withStrings > batch.Count / 2);
        Assert.Contains(batch, e => e.TokenHashes!.Length > 0 && e.Post.Text.Any(ch => ch is >= '\u1000' and <= '\u109F'));
    }
}
