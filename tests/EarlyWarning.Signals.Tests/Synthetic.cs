using EarlyWarning.Core.Posts;

namespace EarlyWarning.Signals.Tests;

/// <summary>Synthetic posts and Poisson counts for driving detectors and the engine (no real text or accounts).</summary>
internal static class Synthetic
{
    public static int Poisson(Random rng, double lambda)
    {
        if (lambda <= 0) return 0;
        if (lambda > 50) return Math.Max(0, (int)Math.Round(lambda + Math.Sqrt(lambda) * Normal(rng)));
        var l = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do { k++; p *= rng.NextDouble(); } while (p > l);
        return k - 1;
    }

    public static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static long _seq;

    public static PostEnvelope Post(DateTimeOffset at, string country, string region, string label = Labels.None,
        string? target = null, string author = "acct", int followers = 100, float incitement = 0, float dehumanisation = 0,
        string[]? tokens = null, List<string>? terms = null, string? lang = "en", string? id = null, string? repostOf = null)
    {
        var pid = id ?? "sim:" + Interlocked.Increment(ref _seq);
        var p = new Post
        {
            Id = pid,
            CreatedAt = at,
            AuthorId = author,
            AuthorFollowers = followers,
            Text = "synthetic post " + pid,
            Lang = lang,
            Country = country,
            Region = region,
            RepostOf = repostOf,
        };
        var d = new Decision
        {
            PostId = pid,
            Label = label,
            Target = target,
            Incitement = incitement,
            Dehumanisation = dehumanisation,
            Terms = terms ?? [],
            Model = "test",
        };
        return new PostEnvelope { Post = p, Position = new SourcePosition("test", 0), Decision = d, Tokens = tokens };
    }
}
