namespace EarlyWarning.Core.Posts;

/// <summary>Labels the classifier assigns (DESIGN.md, "Classify").</summary>
public static class Labels
{
    public const string None = "none";
    public const string Offensive = "offensive";
    public const string Hate = "hate";
    public static readonly string[] All = [None, Offensive, Hate];
}

/// <summary>What the classify and enrich stages decided about one post, with the reasons that drove it.</summary>
public sealed class Decision
{
    public required string PostId { get; init; }
    public required string Label { get; set; }
    /// <summary>Probability per label, in the order of <see cref="Labels.All"/>.</summary>
    public float[] Scores { get; init; } = new float[3];
    public float Incitement { get; set; }
    public float Dehumanisation { get; set; }
    public string? Target { get; set; }
    /// <summary>The n-grams and lexicon entries that drove the decision, most important first.</summary>
    public List<string> Explanation { get; init; } = [];
    /// <summary>Lexicon terms matched in the post (normalised forms).</summary>
    public List<string> Terms { get; init; } = [];
    public required string Model { get; init; }

    public bool IsFlagged => Label != Labels.None || Incitement >= 0.5f || Dehumanisation >= 0.5f;
}

/// <summary>A decoded post travelling through the stages with everything later stages need.</summary>
public sealed class PostEnvelope
{
    public required Post Post { get; init; }
    public required SourcePosition Position { get; init; }
    public Decision? Decision { get; set; }
    /// <summary>MinHash signature of the normalised text (from the text stage), for near-duplicate detection.</summary>
    public ulong[]? MinHash { get; set; }
    /// <summary>Unique normalised tokens (words) of the text, for term series; filled by the text stage.</summary>
    public string[]? Tokens { get; set; }
    /// <summary>
    /// 64-bit hashes of the distinct normalised word tokens of every post (flagged or not), sorted; lets detectors keep
    /// a vocabulary (for emerging-term novelty) without a string per token.
    /// </summary>
    public ulong[]? TokenHashes { get; set; }
    /// <summary>Wall-clock time the post was read from its source (latency measurement).</summary>
    public long ReadTimestamp { get; init; }
}
