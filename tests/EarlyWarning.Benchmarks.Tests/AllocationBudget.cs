using System.Text.Json;
using EarlyWarning.Tests;

namespace EarlyWarning.Benchmarks.Tests;

/// <summary><c>benchmarks/allocation-budget.json</c>: hot path name → largest allowed managed bytes per operation.</summary>
internal static class AllocationBudget
{
    public static string FilePath => Path.Combine(TestPaths.RepoRoot, "benchmarks", "allocation-budget.json");

    private static readonly Lazy<Dictionary<string, double>> Budgets = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FilePath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.GetProperty("budgets").EnumerateObject())
            result[p.Name] = p.Value.GetProperty("maxBytesPerOp").GetDouble();
        return result;
    });

    public static IReadOnlyDictionary<string, double> All => Budgets.Value;

    public static double For(string name) =>
        Budgets.Value.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"no allocation budget for '{name}' in {FilePath}");
}
