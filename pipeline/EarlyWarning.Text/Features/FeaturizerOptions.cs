using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// The featuriser's parameters. They are written into every model manifest; serving refuses a model whose
/// parameters this code cannot reproduce, so training and serving always featurise identically.
/// </summary>
public sealed record FeaturizerOptions
{
    /// <summary>The algorithm this code implements. v2: Burmese syllables, cluster bigrams, de-obfuscation, FNV-1a+fmix64.</summary>
    public const string CurrentAlgorithm = "ew-hash-v2";

    /// <summary>Identifies the algorithm; bump when the hashing or tokenisation changes in a way that changes features.</summary>
    public string Algorithm { get; init; } = CurrentAlgorithm;
    public string HashFunction { get; init; } = "fnv1a64-fmix64";
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
