using EarlyWarning.Core.Alerts;
using Xunit.Abstractions;

namespace EarlyWarning.Network.Tests;

public sealed class CoordinationTests(ITestOutputHelper output)
{
    private static List<Signal> Run(GeneratedStream stream, NetworkOptions? options = null)
    {
        var engine = new NetworkEngine(options ?? new NetworkOptions());
        var signals = new List<Signal>();
        foreach (var p in stream.Posts)
        {
            engine.Observe(p);
            engine.DrainSignals(signals);
        }
        engine.Flush();
        engine.DrainSignals(signals);
        return signals;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Finds_the_coordinated_accounts_and_not_the_decoys(int seed)
    {
        var stream = CampaignGenerator.Generate(seed);
        var signals = Run(stream);
        var campaigns = signals.Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        var flagged = campaigns.SelectMany(s => s.Evidence.Accounts).ToHashSet();
        var tp = flagged.Count(stream.Coordinated.Contains);
        var precision = flagged.Count == 0 ? 0 : (double)tp / flagged.Count;
        var recall = (double)tp / stream.Coordinated.Count;
        output.WriteLine($"seed {seed}: posts {stream.Posts.Count}, campaign {stream.Coordinated.Count}, flagged {flagged.Count}, " +
            $"precision {precision:F3}, recall {recall:F3}, signals {campaigns.Count}, window starts {campaigns.Select(c => c.WindowStart).Distinct().Count()}");

        Assert.True(precision >= 0.9, $"precision {precision:F3}");
        Assert.True(recall >= 0.9, $"recall {recall:F3}");
        Assert.DoesNotContain(flagged, stream.Decoys.Contains);
        Assert.DoesNotContain(flagged, stream.Background.Contains);
    }

    [Fact]
    public void One_campaign_is_updated_with_the_same_window_start_and_majority_scope()
    {
        var stream = CampaignGenerator.Generate(7);
        var campaigns = Run(stream).Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        Assert.True(campaigns.Count >= 2, $"expected the first detection and later updates, got {campaigns.Count}");
        Assert.Single(campaigns.Select(c => c.WindowStart).Distinct());
        var last = campaigns[^1];
        Assert.Equal(new Scope("MM", "Rakhine", "rohingya"), last.Scope);
        Assert.Equal(last.Evidence.Accounts.Count, (int)last.Observed);
        Assert.True(last.Score >= 6, $"score {last.Score}");
        Assert.True(last.Baseline < last.Observed, $"baseline {last.Baseline} vs observed {last.Observed}");
        Assert.True(last.WindowEnd > last.WindowStart.AddMinutes(30));
        // The evidence posts are the campaign's own posts, inside the window (posts of accounts that joined in a later
        // detection may precede the frozen window start by at most one co-share interval).
        var byId = stream.Posts.ToDictionary(p => p.Post.Id);
        Assert.All(last.Evidence.PostIds, id =>
        {
            Assert.Contains(byId[id].Post.AuthorId, stream.Coordinated);
            Assert.InRange(byId[id].Post.CreatedAt, last.WindowStart - new NetworkOptions().CoShareInterval, last.WindowEnd.AddMilliseconds(1));
        });
        Assert.Contains("pollingday", last.Evidence.TopTerms);
        Assert.InRange(last.IncitementShare, 0.05, 0.7);
        // Later signals only grow the campaign.
        for (var i = 1; i < campaigns.Count; i++)
        {
            Assert.True(campaigns[i].Evidence.Accounts.Count >= campaigns[i - 1].Evidence.Accounts.Count);
            Assert.True(campaigns[i].WindowEnd >= campaigns[i - 1].WindowEnd);
        }
    }

    [Fact]
    public void Same_input_gives_the_same_signals()
    {
        var stream = CampaignGenerator.Generate(5);
        var a = Run(stream);
        var b = Run(stream);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].WindowStart, b[i].WindowStart);
            Assert.Equal(a[i].Score, b[i].Score);
            Assert.Equal(a[i].Evidence.Accounts, b[i].Evidence.Accounts);
            Assert.Equal(a[i].Evidence.PostIds, b[i].Evidence.PostIds);
        }
    }

    [Fact]
    public void An_organic_stream_without_a_campaign_raises_nothing()
    {
        var stream = CampaignGenerator.Generate(11, waves: 0, backgroundAccounts: 80, backgroundPosts: 4000);
        var signals = Run(stream);
        Assert.DoesNotContain(signals, s => s.Kind == AlertKinds.CoordinatedCampaign);
    }

    [Fact]
    public void Identical_text_at_random_times_is_not_coordination()
    {
        // The null model at work: the same accounts post the same messages, but hours apart instead of seconds.
        var posts = new List<EarlyWarning.Core.Posts.PostEnvelope>();
        var rng = new Random(3);
        var n = 0;
        for (var w = 0; w < 5; w++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 12).Select(i => $"m{w}x{i}"));
            for (var a = 0; a < 12; a++)
            {
                var at = Posts.T0.AddSeconds(rng.NextDouble() * 7200);
                posts.Add(Posts.Make($"q{n++}", $"p_acc{a:x2}", at, text));
            }
        }
        var stream = new GeneratedStream([.. posts.OrderBy(p => p.Post.CreatedAt)], [], [], []);
        var signals = Run(stream, new NetworkOptions { CoShareInterval = TimeSpan.FromMinutes(20) });
        Assert.DoesNotContain(signals, s => s.Kind == AlertKinds.CoordinatedCampaign);
    }
}
