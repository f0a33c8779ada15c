using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// The featuriser's parameters. They are written into every model manifest; serving refuses a model whose
/// parameters this code cannot reproduce, so training and serving always featurise identically.
/// </summary>
public sealed record FeaturizerOptions
{
    /// <summary>
    /// v2: Burmese syllables, cluster bigrams, de-obfuscation; every n-gram hashed with FNV-1a + fmix64; features
    /// sorted by index with duplicates summed, scaled to unit L2 norm. Still served, for models trained with it.
    /// </summary>
    public const string AlgorithmV2 = "ew-hash-v2";

    /// <summary>
    /// v3 (the default since 2026-12-07): v2's tokens and word n-grams, character n-grams hashed by multiply-shift over
    /// the word's UTF-16 units read four at a time (one multiply per four characters), and the features left as a
    /// multiset in text order: an n-gram that occurs twice is two entries, whose values any linear model adds up, and
    /// each entry is its sign times 1/√(entries), the unit norm the vector has when no two entries share an index.
    /// </summary>
    public const string AlgorithmV3 = "ew-hash-v3";

    /// <summary>The algorithm new models are trained with.</summary>
    public const string CurrentAlgorithm = AlgorithmV3;

    /// <summary>The algorithms this code can reproduce.</summary>
    public static IReadOnlyList<string> SupportedAlgorithms { get; } = [AlgorithmV2, AlgorithmV3];

    /// <summary>The hash functions an algorithm names in a manifest (null for an algorithm this code does not know).</summary>
    public static string? HashFunctionOf(string algorithm) => algorithm switch
    {
        AlgorithmV2 => "fnv1a64-fmix64",
        AlgorithmV3 => "mulshift64-blocks4",
        _ => null,
    };

    /// <summary>Identifies the algorithm; bump when the hashing or tokenisation changes in a way that changes features.</summary>
    public string Algorithm { get; init; } = CurrentAlgorithm;
    /// <summary>The hash functions of <see cref="Algorithm"/>, as manifests name them.</summary>
    public string HashFunction => HashFunctionOf(Algorithm) ?? "unknown";
    public long Seed { get; init; } = 0x45570001;
    /// <summary>Size of the hashed feature space (a power of two, at most 2^30).</summary>
    public int Dimension { get; init; } = 1 << 18;
    public int WordNgramMin { get; init; } = 1;
    public int WordNgramMax { get; init; } = 2;
    /// <summary>Character n-grams of each word (with '&lt;' and '&gt;' marking its edges); 0 turns them off.</summary>
    public int CharNgramMin { get; init; } = 3;
    public int CharNgramMax { get; init; } = 5;
    /// <summary>Signed hashing: one hash bit chooses +1 or -1, so collisions cancel in expectation.</summary>
    public bool Signed { get; init; } = true;
    /// <summary>Features are scaled to unit L2 norm.</summary>
    public bool L2Normalize { get; init; } = true;
    /// <summary>At most this many distinct features per post (the model input width).</summary>
    public int MaxFeatures { get; init; } = 1024;
    public NormalizationSteps Normalization { get; init; } = NormalizationSteps.Default;

    public static FeaturizerOptions Default { get; } = new();
}
