namespace EarlyWarning.Models.Serving;

/// <summary>Finds the shipped model and lexicon folders: next to the executable first, then under the working directory.</summary>
public static class ModelPaths
{
    /// <summary><c>models/default</c> under <see cref="AppContext.BaseDirectory"/>, else under the current directory (may not exist).</summary>
    public static string DefaultModelDir => Find(Path.Combine("models", "default"), "model.json");

    /// <summary><c>models/lexicons</c> under <see cref="AppContext.BaseDirectory"/>, else under the current directory (may not exist).</summary>
    public static string DefaultLexiconDir => Find(Path.Combine("models", "lexicons"), null);

    private static string Find(string relative, string? marker)
    {
        foreach (var root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var dir = Path.Combine(root, relative);
            if (Directory.Exists(dir) && (marker is null || File.Exists(Path.Combine(dir, marker)))) return Path.GetFullPath(dir);
        }
        return Path.GetFullPath(Path.Combine(Directory.GetCurrentDirectory(), relative));
    }
}
