namespace EarlyWarning.Tests;

/// <summary>Finds the repository root and <c>../shared</c> (DESIGN.md, "Where things live at run time").</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EarlyWarning.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("EarlyWarning.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The folder holding EarlyWarning.sln.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared folder: <c>EARLYWARNING_SHARED</c> when set, else <c>../shared</c> beside the repository.</summary>
    public static string Shared
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("EARLYWARNING_SHARED");
            if (!string.IsNullOrEmpty(env)) return env;
            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        }
    }

    public static string Data(params string[] parts) => Path.Combine([Shared, "data", .. parts]);

    /// <summary>A fresh, unique scratch directory for one test.</summary>
    public static string NewTempDir(string prefix = "ew")
    {
        var d = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }
}
