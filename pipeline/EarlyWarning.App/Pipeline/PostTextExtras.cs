using EarlyWarning.Core.Posts;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// What the classify stage adds to a post besides its decision, all from the text normalised with the default steps:
/// the MinHash signature (near-duplicates), the sorted distinct word-token hashes (vocabulary for novelty) and, for
/// flagged posts, the token strings (what an emerging-term alert names). <see cref="Fill"/> takes text the classifier
/// already normalised (<see cref="Models.Serving.PostClassifier.ClassifyBatch(IReadOnlyList{PostEnvelope}, string[])"/>);
/// <see cref="FillFromRaw"/> normalises itself and gives the same result. One instance per thread (it keeps buffers).
/// </summary>
public sealed class PostTextExtras
{
    /// <summary>The normalisation the extras are defined over.</summary>
    public const NormalizationSteps Steps = NormalizationSteps.Default;

    private readonly TextNormalizer _normalizer = new(Steps);
    private readonly MinHasher _minHasher = new();
    private readonly List<ulong> _hashes = new(64);
    private readonly HashSet<string> _words = new(StringComparer.Ordinal);
    private char[] _norm = new char[4096];

    /// <summary>
    /// Where signature arrays come from and, once the network stage has copied a signature into its index, go back to
    /// (<see cref="SignaturePool"/>); null allocates one per post.
    /// </summary>
    public SignaturePool? Signatures { get; init; }

    /// <summary>Normalises the post's raw text, then <see cref="Fill"/>.</summary>
    public void FillFromRaw(PostEnvelope e, bool withStrings)
    {
        ArgumentNullException.ThrowIfNull(e);
        var text = (e.Post.Text ?? "").AsSpan();
        var need = TextNormalizer.MaxOutputLength(text.Length);
        if (_norm.Length < need) _norm = new char[need];
        _normalizer.Normalize(text, _norm, out var n);
        Fill(e, _norm.AsSpan(0, n), withStrings);
    }

    /// <summary>Sets <see cref="PostEnvelope.MinHash"/>, <see cref="PostEnvelope.TokenHashes"/> and, when
    /// <paramref name="withStrings"/>, <see cref="PostEnvelope.Tokens"/> from text normalised with <see cref="Steps"/>.</summary>
    public void Fill(PostEnvelope e, ReadOnlySpan<char> normalized, bool withStrings)
    {
        ArgumentNullException.ThrowIfNull(e);
        var sig = Signatures?.Rent(_minHasher.NumHashes) ?? new ulong[_minHasher.NumHashes];
        _minHasher.Compute(normalized, sig);
        e.MinHash = sig;

        var hashes = _hashes;
        var words = _words;
        hashes.Clear();
        words.Clear();
        foreach (var t in Tokenizer.Tokenize(normalized))
        {
            if (t.Kind is not (TokenKind.Word or TokenKind.Hashtag or TokenKind.Syllable) || t.Length < 3) continue;
            var span = normalized.Slice(t.Start, t.Length);
            hashes.Add(TokenHash.Of(span));
            if (withStrings) words.Add(span.ToString());
        }
        hashes.Sort();
        var distinct = 0;
        for (var i = 0; i < hashes.Count; i++)
            if (i == 0 || hashes[i] != hashes[i - 1]) hashes[distinct++] = hashes[i];
        var result = new ulong[distinct];
        hashes.CopyTo(0, result, 0, distinct);
        e.TokenHashes = result;
        if (withStrings) e.Tokens = [.. words];
    }
}

/// <summary>
/// MinHash signature arrays passed from the classify stage to the network stage and back: a signature is dead once
/// the network stage has copied it into its LSH index, and one array per post was about a tenth of the pipeline's
/// allocation. Thread-safe; keeps at most <see cref="MaxKept"/> arrays.
/// </summary>
public sealed class SignaturePool
{
    /// <summary>Arrays kept for reuse at most (a few batches in flight; more are left to the collector).</summary>
    public const int MaxKept = 4096;

    private readonly Stack<ulong[]> _free = new();

    /// <summary>Arrays kept now (tests).</summary>
    public int Count { get { lock (_free) return _free.Count; } }

    /// <summary>An array of exactly <paramref name="length"/> elements (contents undefined: the caller overwrites all of it).</summary>
    public ulong[] Rent(int length)
    {
        lock (_free)
            while (_free.TryPop(out var a))
                if (a.Length == length) return a;
        return new ulong[length];
    }

    /// <summary>Takes back the signature of <paramref name="e"/> (and clears it from the post, so nothing reads a reused array).</summary>
    public void Return(PostEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        ReturnAll([e]);
    }

    /// <summary>
    /// <see cref="Return(PostEnvelope)"/> for every post of a batch under one lock (the network stage, which bounds the
    /// pipeline, gives a batch back at once rather than taking the lock per post).
    /// </summary>
    public void ReturnAll(IReadOnlyList<PostEnvelope> posts)
    {
        ArgumentNullException.ThrowIfNull(posts);
        lock (_free)
        {
            for (var i = 0; i < posts.Count; i++)
            {
                if (posts[i].MinHash is not { } sig) continue;
                posts[i].MinHash = null;
                if (_free.Count < MaxKept) _free.Push(sig);
            }
        }
    }
}
