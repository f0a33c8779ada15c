namespace EarlyWarning.Models.Training;

/// <summary>
/// A fixed, stratified train/validation/test split: within each class, rows are ordered by a seeded hash of their
/// key (Davidson: the row index column) and the first 70 % go to train, the next 10 % to validation, the rest to test.
/// The split depends only on the keys, the labels, the seed and the proportions (documented in models/README.md).
/// </summary>
public static class StratifiedSplit
{
    public const ulong DefaultSeed = 20170512;
    public const double DefaultTrain = 0.7;
    public const double DefaultValidation = 0.1;

    public const string Train = "train";
    public const string Validation = "val";
    public const string Test = "test";

    /// <summary>Assigns each row to train/val/test. <paramref name="keys"/> and <paramref name="labels"/> are parallel.</summary>
    public static string[] Assign(IReadOnlyList<string> keys, IReadOnlyList<int> labels, ulong seed = DefaultSeed,
        double train = DefaultTrain, double validation = DefaultValidation)
    {
        var result = new string[keys.Count];
        foreach (var group in Enumerable.Range(0, keys.Count).GroupBy(i => labels[i]))
        {
            var rows = group.OrderBy(i => Hash(keys[i], seed)).ThenBy(i => keys[i], StringComparer.Ordinal).ToArray();
            var nTrain = (int)Math.Round(rows.Length * train);
            var nVal = (int)Math.Round(rows.Length * validation);
            for (var j = 0; j < rows.Length; j++)
                result[rows[j]] = j < nTrain ? Train : j < nTrain + nVal ? Validation : Test;
        }
        return result;
    }

    /// <summary>SplitMix64 over the key's UTF-16 code units, seeded; stable across runs and platforms.</summary>
    public static ulong Hash(string key, ulong seed)
    {
        var h = seed ^ 0x9E3779B97F4A7C15UL;
        foreach (var ch in key)
        {
            h ^= ch;
            h += 0x9E3779B97F4A7C15UL;
            var z = h;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            h = z ^ (z >> 31);
        }
        return h;
    }
}
