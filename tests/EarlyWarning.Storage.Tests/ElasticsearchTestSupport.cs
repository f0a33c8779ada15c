using EarlyWarning.Core.Posts;
using EarlyWarning.Storage.Elasticsearch;
using EarlyWarning.Tests;

namespace EarlyWarning.Storage.Tests;

/// <summary>Options and data the Elasticsearch tests share: short back-off, reproducible jitter, templates from the repository.</summary>
internal static class ElasticsearchTestSupport
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    private static readonly string[] Words = ["market", "river", "harvest", "bridge", "lantern", "school", "rain", "festival", "road", "garden"];

    public static string AssetsDirectory => Path.Combine(TestPaths.RepoRoot, "dashboards", "elasticsearch");

    public static ElasticsearchOptions Options(Uri url, int maxBulkBytes = 5 * 1024 * 1024, int maxAttempts = 8, string prefix = "earlywarning") => new()
    {
        Url = url,
        IndexPrefix = prefix,
        MaxBulkBytes = maxBulkBytes,
        MaxAttempts = maxAttempts,
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(4),
        JitterSeed = 7,
        AssetsDirectory = AssetsDirectory,
        RequestTimeout = TimeSpan.FromSeconds(20),
    };

    public static async Task<ElasticsearchStore> OpenAsync(ElasticsearchOptions options)
    {
        var store = new ElasticsearchStore(options);
        await store.InitializeAsync();
        return store;
    }

    /// <summary>A post with neutral text; <paramref name="raw"/> replaces the original message bytes.</summary>
    public static PostEnvelope Post(int n, string? text = null, string? raw = null, DateTimeOffset? createdAt = null, string source = "test:src")
    {
        var id = "t:" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var post = new Post
        {
            Id = id,
            Platform = "twitter",
            CreatedAt = createdAt ?? T0.AddSeconds(n),
            AuthorId = "ps_author" + (n % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Text = text ?? $"{Words[n % Words.Length]} {Words[(n / 10) % Words.Length]} post {n}",
            Lang = "en",
            Country = "MM",
            Region = "Rakhine",
            Hashtags = ["election"],
            Raw = System.Text.Encoding.UTF8.GetBytes(raw ?? "{\"id\":\"" + id + "\",\"extra\":{\"k\":1}}"),
        };
        var decision = new Decision
        {
            PostId = id,
            Label = n % 5 == 0 ? Labels.Hate : Labels.None,
            Scores = [0.8f, 0.15f, 0.05f],
            Model = "test-model@1",
        };
        return new PostEnvelope { Post = post, Position = new SourcePosition(source, n), Decision = decision };
    }
}
