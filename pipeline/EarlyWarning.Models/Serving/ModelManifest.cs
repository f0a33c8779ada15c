using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EarlyWarning.Core.Posts;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Language;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Models.Serving;

/// <summary>The featuriser parameters as written in a manifest, plus a fingerprint of the features they produce.</summary>
public sealed record FeaturizerSpec
{
    public string Algorithm { get; init; } = "";
    public string HashFunction { get; init; } = "";
    public long Seed { get; init; }
    public int Dimension { get; init; }
    public int WordNgramMin { get; init; }
    public int WordNgramMax { get; init; }
    public int CharNgramMin { get; init; }
    public int CharNgramMax { get; init; }
    public bool Signed { get; init; }
    public bool L2Normalize { get; init; }
    public int MaxFeatures { get; init; }
    public List<string> Normalization { get; init; } = [];
    /// <summary>Hash of the features of fixed probe texts: catches a changed implementation behind unchanged parameters.</summary>
    public string Fingerprint { get; init; } = "";

    /// <summary>Probe texts for the fingerprint: several scripts, obfuscations and emoji.</summary>
    internal static readonly string[] Probes =
    [
        "The quick brown fox jumps over the lazy dog!",
        "y0u are s o o o stupiiiid @user #tag http://x.y",
        "မြန်မာ စာ သည် ဤသို့ ဖြစ်သည်",
        "සිංහල භාෂාව ලස්සනයි",
        "தமிழ் மொழி அழகானது",
        "Habari ya asubuhi, rafiki yangu 😀👍",
        "ＦＵＬＬＷＩＤＴＨ text\u200b with zero width",
        "",
    ];

    public static FeaturizerSpec From(FeaturizerOptions o) => new()
    {
        Algorithm = o.Algorithm, HashFunction = o.HashFunction, Seed = o.Seed, Dimension = o.Dimension,
        WordNgramMin = o.WordNgramMin, WordNgramMax = o.WordNgramMax, CharNgramMin = o.CharNgramMin, CharNgramMax = o.CharNgramMax,
        Signed = o.Signed, L2Normalize = o.L2Normalize, MaxFeatures = o.MaxFeatures,
        Normalization = Enum.GetValues<NormalizationSteps>().Where(s => s != NormalizationSteps.None && IsSingleFlag(s) && o.Normalization.HasFlag(s))
            .Select(s => s.ToString()).ToList(),
        Fingerprint = ComputeFingerprint(new FeatureHasher(o)),
    };

    /// <summary>Rebuilds options this code can run, or explains why it cannot.</summary>
    public bool TryToOptions(out FeaturizerOptions? options, out string? reason)
    {
        options = null;
        // Every algorithm this code still implements is served (models trained with ew-hash-v2 keep working after v3).
        if (FeaturizerOptions.HashFunctionOf(Algorithm) is not { } hashFunction)
        { reason = $"featuriser algorithm '{Algorithm}' is not one this code runs ({string.Join(", ", FeaturizerOptions.SupportedAlgorithms)})"; return false; }
        if (HashFunction != hashFunction) { reason = $"hash function '{HashFunction}' is not '{hashFunction}', the one {Algorithm} uses"; return false; }
        var steps = NormalizationSteps.None;
        foreach (var s in Normalization)
        {
            if (!Enum.TryParse<NormalizationSteps>(s, ignoreCase: false, out var step) || !Enum.IsDefined(step)) { reason = $"unknown normalisation step '{s}'"; return false; }
            steps |= step;
        }
        var o = new FeaturizerOptions
        {
            Algorithm = Algorithm, Seed = Seed, Dimension = Dimension, WordNgramMin = WordNgramMin, WordNgramMax = WordNgramMax,
            CharNgramMin = CharNgramMin, CharNgramMax = CharNgramMax, Signed = Signed, L2Normalize = L2Normalize,
            MaxFeatures = MaxFeatures, Normalization = steps,
        };
        FeatureHasher hasher;
        try { hasher = new FeatureHasher(o); }
        catch (ArgumentException e) { reason = "featuriser parameters rejected: " + e.Message; return false; }
        var fp = ComputeFingerprint(hasher);
        if (fp != Fingerprint) { reason = $"featuriser fingerprint {fp} differs from the model's {Fingerprint}: the text stage changed; retrain the model"; return false; }
        options = o;
        reason = null;
        return true;
    }

    /// <summary>FNV-1a 64 over the (index, value) pairs of the probe texts.</summary>
    public static string ComputeFingerprint(FeatureHasher hasher)
    {
        var w = hasher.Options.MaxFeatures;
        var idx = new int[w];
        var val = new float[w];
        var h = 14695981039346656037UL;
        foreach (var p in Probes)
        {
            var n = hasher.Featurize(p, idx, val);
            h = Mix(h, (uint)n);
            for (var i = 0; i < n; i++)
            {
                h = Mix(h, (uint)idx[i]);
                h = Mix(h, (uint)BitConverter.SingleToInt32Bits(MathF.Round(val[i], 5)));
            }
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static ulong Mix(ulong h, uint v)
    {
        for (var i = 0; i < 4; i++) { h ^= (byte)(v >> (8 * i)); h *= 1099511628211UL; }
        return h;
    }

    private static bool IsSingleFlag(NormalizationSteps s) => ((int)s & ((int)s - 1)) == 0;
}

/// <summary>
/// The tokenizer of a plug-in token-id model (manifest <c>tokenizer</c>): <c>type</c> <c>wordpiece</c> (BERT: basic
/// pre-tokenisation, [CLS]/[SEP] added) over the <c>vocab</c> file next to the manifest; at most <c>max_tokens</c> ids per post.
/// </summary>
public sealed record TokenizerSpec
{
    public const string WordPiece = "wordpiece";
    public string Type { get; init; } = WordPiece;
    /// <summary>Vocabulary file, relative to the model directory (one token per line; line number = id).</summary>
    public string Vocab { get; init; } = "vocab.txt";
    public bool Lowercase { get; init; } = true;
    public int MaxTokens { get; init; } = 128;
    /// <summary>Id used for padding (BERT: 0 = [PAD]).</summary>
    public int PadId { get; init; }
}

/// <summary>A model input or output and its shape (symbolic dimensions as strings).</summary>
public sealed record TensorSpec(string Name, string Type, List<object> Shape);

/// <summary>One training dataset and its licence, as recorded in a manifest.</summary>
public sealed record TrainingDataSpec(string Name, string Licence, int Examples);

/// <summary><c>model.json</c>: what serving needs to run a model directory and what a reader needs to trust it.</summary>
public sealed class ModelManifest
{
    public string Name { get; set; } = "earlywarning-linear";
    public string Version { get; set; } = "1.0.0";
    public string Kind { get; set; } = "hashed-linear";
    public List<string> Labels { get; set; } = [.. Core.Posts.Labels.All];
    /// <summary>Flags the decisions carry; in this model they come from the lexicons (no model head yet).</summary>
    public List<string> Flags { get; set; } = ["incitement", "dehumanisation"];
    public List<TensorSpec> Inputs { get; set; } = [];
    public List<TensorSpec> Outputs { get; set; } = [];
    public FeaturizerSpec Featurizer { get; set; } = new();
    /// <summary>Set for plug-in models over token ids (then <see cref="Featurizer"/> is not used).</summary>
    public TokenizerSpec? Tokenizer { get; set; }
    /// <summary>Whether the model's output is <c>probabilities</c> (softmax applied) or <c>logits</c> (serving applies it).</summary>
    public string OutputKind { get; set; } = "probabilities";
    /// <summary>Decision rule: label = argmax over classes of (ln p_c + class_bias_c); biases chosen on validation data.</summary>
    public string DecisionRule { get; set; } = "argmax(ln p + class_bias)";
    public Dictionary<string, double> ClassBias { get; set; } = [];
    public List<TrainingDataSpec> TrainingData { get; set; } = [];
    /// <summary>
    /// The scripts the model was trained on, as <see cref="ScriptLanguageDetector"/> names them (its language code, e.g.
    /// <c>ar</c>, <c>si</c>; <see cref="UnmappedScript"/> for text it maps to no language, chiefly Latin). A post written
    /// in another script is outside what the model learned: its scores there come from hash collisions with other
    /// languages' n-grams, so serving lets the lexicons alone label it. Null (models from before 2026-12-07, plug-in
    /// models): no restriction.
    /// </summary>
    public List<string>? TrainedScripts { get; set; }
    public string? Created { get; set; }
    public string ModelFile { get; set; } = "model.onnx";

    public string Id => Name + "@" + Version;

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions) + "\n", new UTF8Encoding(false));

    /// <summary>Reads a manifest; throws <see cref="InvalidDataException"/> with a reason when it is unusable.</summary>
    public static ModelManifest Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"model manifest not found: {path}");
        ModelManifest? m;
        try { m = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions); }
        catch (JsonException e) { throw new InvalidDataException($"model manifest {path} is not valid JSON: {e.Message}", e); }
        if (m is null || m.Labels.Count == 0) throw new InvalidDataException($"model manifest {path} has no labels");
        return m;
    }

    /// <summary>The <see cref="TrainedScripts"/> entry for text whose script names no language (Latin, Cyrillic, mixed, none).</summary>
    public const string UnmappedScript = "*";

    /// <summary>The script key of a text: its script's language, or <see cref="UnmappedScript"/>.</summary>
    public static string ScriptOf(ReadOnlySpan<char> text) => ScriptLanguageDetector.Detect(text) ?? UnmappedScript;

    /// <summary>Whether the model was trained on the script <paramref name="text"/> is written in (always, with no list).</summary>
    public bool CoversScriptOf(ReadOnlySpan<char> text) => TrainedScripts is null || CoversScript(ScriptOf(text));

    /// <summary>Whether the model was trained on <paramref name="script"/> (a <see cref="ScriptOf"/> key; always, with no list).</summary>
    public bool CoversScript(string script) => TrainedScripts is not { } scripts || scripts.Contains(script);

    /// <summary>Bias per class index in <see cref="Labels"/> order (0 for classes not listed).</summary>
    public float[] BiasVector() => Labels.Select(l => ClassBias.TryGetValue(l, out var b) ? (float)b : 0f).ToArray();
}
