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

    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> Scratch = new();
    private static int _cleanupRegistered;

    /// <summary>
    /// A fresh, unique scratch directory for one test. Scratch directories are removed when the test process exits
    /// (an end-to-end run leaves ~200 MB each); set <c>EARLYWARNING_KEEP_TEST_DIRS=1</c> to keep them for a post-mortem.
    /// </summary>
    public static string NewTempDir(string prefix = "ew")
    {
        var d = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        if (Environment.GetEnvironmentVariable("EARLYWARNING_KEEP_TEST_DIRS") != "1")
        {
            Scratch.Enqueue(d);
            if (Interlocked.Exchange(ref _cleanupRegistered, 1) == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveScratch();
        }
        return d;
    }

    private static void RemoveScratch()
    {
        while (Scratch.TryDequeue(out var d))
        {
            try { Directory.Delete(d, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* still in use by a child process: left behind */ }
        }
    }
}
