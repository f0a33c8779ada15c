using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.App.Tests.Safeguards;

/// <summary>Builds small SQLite stores with known posts, decisions and alerts for the safeguard tests.</summary>
internal static class SafeguardTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 8, 0, 0, 0, TimeSpan.Zero);

    public static (string Dir, string Db) NewStorePath()
    {
        var dir = TestPaths.NewTempDir("ew-sg");
        return (dir, Path.Combine(dir, "ew.db"));
    }

    public static PostEnvelope Post(string id, DateTimeOffset at, string text, string label = Labels.None, string lang = "en",
        string? target = null, string author = "p_0000000000000001")
    {
        var post = new Post
        {
            Id = id, CreatedAt = at, AuthorId = author, Text = text, Lang = lang, Country = "KE", Region = "Nairobi",
            Raw = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":\"{id}\",\"text\":\"{text}\"}}"),
        };
        var decision = new Decision
        {
            PostId = id, Label = label, Model = "test-model@1", Target = target,
            Scores = label == Labels.None ? [0.9f, 0.05f, 0.05f] : [0.1f, 0.2f, 0.7f],
        };
        return new PostEnvelope { Post = post, Position = new SourcePosition("test", 0), Decision = decision };
    }

    public static Alert Alert(string kind, DateTimeOffset start, DateTimeOffset end, string region = "Nairobi", Severity severity = Severity.High)
    {
        var scope = new Scope("KE", region, "women");
        return new Alert
        {
            Id = EarlyWarning.Core.Alerts.Alert.MakeId(kind, scope, start), Kind = kind, Severity = severity, WindowStart = start,
            WindowEnd = end, DetectedAt = start, Scope = scope, Explanation = "test alert", Model = "test-model@1",
        };
    }

    public static async Task WriteAsync(SqliteStore store, IEnumerable<PostEnvelope> posts, IEnumerable<Alert>? alerts = null)
    {
        var batch = new StoreBatch();
        batch.Posts.AddRange(posts);
        if (alerts is not null) batch.Alerts.AddRange(alerts);
        await store.WriteAsync(batch);
    }

    /// <summary>True when <paramref name="needle"/> occurs anywhere in the file's bytes (the database or its WAL).</summary>
    public static bool FileContains(string path, byte[] needle) =>
        File.Exists(path) && File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
}
