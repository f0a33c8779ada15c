using EarlyWarning.Models.Serving;

namespace EarlyWarning.Models.Training;

/// <summary>Which scripts a training set covers well enough for the model to be trusted on them (manifest <c>trained_scripts</c>).</summary>
public static class TrainingScripts
{
    /// <summary>
    /// Training examples a script needs before the model is trusted on it. The smallest set we train on, Sinhala, has
    /// about 1,000 training rows; 100 keeps a script out when it appears only in stray rows of another language's data.
    /// </summary>
    public const int MinExamples = 100;

    /// <summary>The script keys (<see cref="ModelManifest.ScriptOf"/>) with at least <paramref name="minExamples"/> texts, in ordinal order, with their counts.</summary>
    public static IReadOnlyList<(string Script, int Examples)> Count(IEnumerable<string> texts, int minExamples = MinExamples)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in texts)
        {
            var key = ModelManifest.ScriptOf(t);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts.Where(kv => kv.Value >= minExamples).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
