namespace EarlyWarning.Benchmarks.Inputs;

/// <summary>
/// Finds the repository (the folder holding EarlyWarning.sln) from the executable or the working directory:
/// BenchmarkDotNet runs benchmarks from a generated folder, so both are tried.
/// </summary>
public static class RepoPaths
{
    public static string Root
    {
        get
        {
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "EarlyWarning.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("EarlyWarning.sln not found above " + AppContext.BaseDirectory + " or the working directory");
        }
    }

    public static string DefaultModel => Path.Combine(Root, "models", "default");
    public static string Lexicons => Path.Combine(Root, "models", "lexicons");

    /// <summary>A file under <c>../shared/data</c> (or <c>$EARLYWARNING_SHARED/data</c>).</summary>
    public static string Data(params string[] parts)
    {
        var env = Environment.GetEnvironmentVariable("EARLYWARNING_SHARED");
        var shared = string.IsNullOrEmpty(env) ? Path.Combine(Root, "..", "shared") : env;
        return Path.GetFullPath(Path.Combine([shared, "data", .. parts]));
    }
}
