using EarlyWarning.Core.Posts;

namespace EarlyWarning.Models.Datasets;

/// <summary>One labelled text mapped onto our label scheme (<see cref="Labels.All"/>) and flags.</summary>
public sealed record LabeledExample(string Text, string Label)
{
    /// <summary>ISO 639-1 language of the text where the dataset states it.</summary>
    public string? Language { get; init; }
    /// <summary>Target-group id (ARCHITECTURE.md) where the dataset annotates it.</summary>
    public string? Target { get; init; }
    public bool Incitement { get; init; }
    public bool Dehumanisation { get; init; }
    /// <summary>Dataset-specific row id (Davidson: the row index column; others: their post id).</summary>
    public string? Id { get; init; }
    /// <summary>The dataset's own split (train/val/test) where it has one.</summary>
    public string? Split { get; init; }
    /// <summary>The label as the dataset wrote it, for the mapping table.</summary>
    public string? OriginalLabel { get; init; }

    /// <summary>Annotator label distribution in <see cref="Labels.All"/> order where the dataset gives coder counts (Davidson).</summary>
    public float[]? Soft { get; init; }

    /// <summary>Index of <see cref="Label"/> in <see cref="Labels.All"/>.</summary>
    public int LabelIndex => Array.IndexOf(Labels.All, Label);
}

/// <summary>A row that could not be used, with the reason (bad input is reported, never dropped silently).</summary>
public sealed record SkippedRow(string Where, string Reason);

/// <summary>What a loader read from one dataset: examples, skipped rows and the dataset's licence.</summary>
public sealed class DatasetLoadResult
{
    public required string Name { get; init; }
    public required string Licence { get; init; }
    /// <summary>True when the licence allows shipping a model derived from it (MIT, CC BY).</summary>
    public bool Redistributable { get; init; }
    /// <summary>True when the dataset only distinguishes flagged from not flagged (evaluate as binary).</summary>
    public bool Binary { get; init; }
    /// <summary>True for analyst feedback (<see cref="FeedbackData"/>): split 80/20 train/test, weighted up in training.</summary>
    public bool IsFeedback { get; init; }
    public List<LabeledExample> Examples { get; } = [];
    public List<SkippedRow> Skipped { get; } = [];

    /// <summary>The examples of one split; all of them when no example has a split.</summary>
    public IReadOnlyList<LabeledExample> SplitOrAll(string split) =>
        Examples.Any(e => e.Split is not null) ? Examples.Where(e => e.Split == split).ToList() : Examples;
}
