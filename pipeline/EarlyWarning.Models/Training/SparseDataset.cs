using EarlyWarning.Models.Datasets;
using EarlyWarning.Text.Features;

namespace EarlyWarning.Models.Training;

/// <summary>Featurised examples in compressed sparse rows, built once and reused across epochs.</summary>
public sealed class SparseDataset
{
    private SparseDataset(int[] rowStart, int[] indices, float[] values, int[] labels, float[][]? soft = null)
    {
        Soft = soft;
        RowStart = rowStart;
        Indices = indices;
        Values = values;
        Labels = labels;
    }

    public int[] RowStart { get; }
    public int[] Indices { get; }
    public float[] Values { get; }
    public int[] Labels { get; }
    public int Count => Labels.Length;
    /// <summary>Optional per-row target distributions (soft labels); null rows use the hard label.</summary>
    public float[][]? Soft { get; }

    public ReadOnlySpan<int> RowIndices(int row) => Indices.AsSpan(RowStart[row], RowStart[row + 1] - RowStart[row]);
    public ReadOnlySpan<float> RowValues(int row) => Values.AsSpan(RowStart[row], RowStart[row + 1] - RowStart[row]);

    /// <summary>Builds a dataset from raw sparse rows (tests and callers with their own features).</summary>
    public static SparseDataset FromRows(IReadOnlyList<(int[] Indices, float[] Values)> rows, IReadOnlyList<int> labels, float[][]? soft = null)
    {
        var start = new int[rows.Count + 1];
        for (var i = 0; i < rows.Count; i++) start[i + 1] = start[i] + rows[i].Indices.Length;
        var idx = new int[start[^1]];
        var val = new float[start[^1]];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].Indices.CopyTo(idx, start[i]);
            rows[i].Values.CopyTo(val, start[i]);
        }
        return new SparseDataset(start, idx, val, labels.ToArray(), soft);
    }

    /// <summary>Featurises the examples with <paramref name="hasher"/> (in parallel; the result does not depend on thread count).</summary>
    public static SparseDataset Featurize(IReadOnlyList<LabeledExample> examples, FeatureHasher hasher, bool useSoftLabels = false)
    {
        var width = hasher.Options.MaxFeatures;
        var perRow = new (int[] Idx, float[] Val)[examples.Count];
        Parallel.For(0, examples.Count, () => (new int[width], new float[width]), (i, _, buf) =>
        {
            var n = hasher.Featurize(examples[i].Text, buf.Item1, buf.Item2);
            perRow[i] = (buf.Item1.AsSpan(0, n).ToArray(), buf.Item2.AsSpan(0, n).ToArray());
            return buf;
        }, _ => { });
        var labels = new int[examples.Count];
        for (var i = 0; i < labels.Length; i++) labels[i] = examples[i].LabelIndex;
        var soft = useSoftLabels && examples.Any(e => e.Soft is not null) ? examples.Select(e => e.Soft!).ToArray() : null;
        return FromRows(perRow, labels, soft);
    }
}
