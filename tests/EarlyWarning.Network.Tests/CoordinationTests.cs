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

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    public void The_same_stream_under_another_pseudonymisation_key_gives_the_same_campaigns(int seed)
    {
        // Account ids reach the engine pseudonymised with the deployment's key; another key relabels every account
        // (and reorders them). Campaigns, their windows and scores must not change with it.
        static string Relabel(string id) => "q" + Convert.ToHexString(System.Security.Cryptography.HMACSHA256.HashData("another key"u8, System.Text.Encoding.UTF8.GetBytes(id)))[..20];
        var original = CampaignGenerator.Generate(seed);
        var relabelled = CampaignGenerator.Generate(seed);
        foreach (var e in relabelled.Posts)
        {
            e.Post.AuthorId = Relabel(e.Post.AuthorId);
            e.Post.Mentions = e.Post.Mentions.Select(Relabel).ToArray();
        }
        var a = Run(original).Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        var b = Run(relabelled).Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        Assert.NotEmpty(a);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].WindowStart, b[i].WindowStart);
            Assert.Equal(a[i].WindowEnd, b[i].WindowEnd);
            Assert.Equal(a[i].Score, b[i].Score);
            Assert.Equal(a[i].Baseline, b[i].Baseline);
            Assert.Equal(a[i].Scope, b[i].Scope);
            Assert.Equal(a[i].Evidence.PostIds.Order(StringComparer.Ordinal), b[i].Evidence.PostIds.Order(StringComparer.Ordinal));
            Assert.Equal(a[i].Evidence.Accounts.Select(Relabel).Order(StringComparer.Ordinal), b[i].Evidence.Accounts.Order(StringComparer.Ordinal));
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

    /// <summary>Runs the stream and returns each campaign signal with the engine's event time when it was drained.</summary>
    private static List<(Signal Signal, DateTimeOffset At)> RunTimed(IEnumerable<EarlyWarning.Core.Posts.PostEnvelope> posts, NetworkOptions? options = null)
    {
        var engine = new NetworkEngine(options ?? new NetworkOptions());
        var result = new List<(Signal, DateTimeOffset)>();
        var buffer = new List<Signal>();
        foreach (var p in posts)
        {
            engine.Observe(p);
            buffer.Clear();
            engine.DrainSignals(buffer);
            foreach (var s in buffer) if (s.Kind == AlertKinds.CoordinatedCampaign) result.Add((s, engine.Now!.Value));
        }
        engine.Flush();
        buffer.Clear();
        engine.DrainSignals(buffer);
        foreach (var s in buffer) if (s.Kind == AlertKinds.CoordinatedCampaign) result.Add((s, engine.Now!.Value));
        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_single_wave_of_paraphrases_is_a_campaign_within_minutes(int seed)
    {
        // One wave only: the repeated-co-sharing path cannot fire (each pair shares one content); the novel-text burst must.
        var stream = CampaignGenerator.Generate(seed, waves: 1);
        var waveStart = stream.Posts.Where(p => stream.Coordinated.Contains(p.Post.AuthorId)).Min(p => p.Post.CreatedAt);
        var posted = stream.Posts.Where(p => stream.Coordinated.Contains(p.Post.AuthorId)).Select(p => p.Post.AuthorId).ToHashSet();
        var campaigns = RunTimed(stream.Posts);
        Assert.NotEmpty(campaigns);
        var delay = campaigns[0].At - waveStart;
        var flagged = campaigns.SelectMany(c => c.Signal.Evidence.Accounts).ToHashSet();
        var precision = (double)flagged.Count(posted.Contains) / flagged.Count;
        var recall = (double)flagged.Count(posted.Contains) / posted.Count;
        output.WriteLine($"seed {seed}: first signal {delay.TotalSeconds:F0} s after the wave began; precision {precision:F3}, recall {recall:F3}");
        Assert.True(delay <= TimeSpan.FromMinutes(3), $"first campaign signal {delay} after the wave began");
        Assert.True(precision >= 0.9, $"precision {precision:F3}");
        Assert.True(recall >= 0.9, $"recall {recall:F3}");
        Assert.DoesNotContain(flagged, stream.Decoys.Contains);
        Assert.Single(campaigns.Select(c => c.Signal.WindowStart).Distinct());
    }

    private static List<EarlyWarning.Core.Posts.PostEnvelope> Slogan(string text, int accounts, DateTimeOffset from, double spreadSeconds, int seed,
        string prefix, bool repost = false)
    {
        var rng = new Random(seed);
        var words = text.Split(' ');
        return Enumerable.Range(0, accounts).Select(i =>
        {
            var w = (string[])words.Clone();
            w[rng.Next(w.Length)] = "v" + rng.Next(100);
            var at = from.AddSeconds(rng.NextDouble() * spreadSeconds);
            return repost
                ? Posts.Make($"{prefix}{i}", $"p_{prefix}{i:x3}", at, text, repostOf: "origin")
                : Posts.Make($"{prefix}{i}", $"p_{prefix}{i:x3}", at, string.Join(' ', w));
        }).ToList();
    }

    [Fact]
    public void A_burst_of_a_text_already_current_is_not_a_campaign_but_the_same_burst_of_a_new_text_is()
    {
        const string chant = "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k11 l12";
        // The chant circulates organically for hours (different accounts, minutes apart), then twelve accounts post it
        // within a minute: a recurring text, not a new message pushed in a wave.
        var history = Slogan(chant, 60, Posts.T0, 3 * 3600, 1, "h");
        var burst = Slogan(chant, 12, Posts.T0.AddHours(3.2), 60, 2, "b");
        var organic = RunTimed(history.Concat(burst).OrderBy(p => p.Post.CreatedAt));
        Assert.Empty(organic);
        // Control: the same burst with no history is a campaign (so the test above can fail).
        var fresh = RunTimed(burst.OrderBy(p => p.Post.CreatedAt));
        Assert.NotEmpty(fresh);
        Assert.Equal(12, fresh[^1].Signal.Evidence.Accounts.Count);
    }

    [Fact]
    public void Reposts_of_a_new_post_are_amplification_not_a_burst()
    {
        var origin = Posts.Make("origin", "p_origin", Posts.T0, "n1 n2 n3 n4 n5 n6 n7 n8 n9 n10 n11 n12", followers: 100_000);
        var reposts = Slogan("n1 n2 n3 n4 n5 n6 n7 n8 n9 n10 n11 n12", 30, Posts.T0.AddSeconds(5), 90, 3, "r", repost: true);
        Assert.Empty(RunTimed(new[] { origin }.Concat(reposts.OrderBy(p => p.Post.CreatedAt))));
    }

    [Fact]
    public void A_burst_below_the_configured_size_is_not_a_campaign()
    {
        var burst = Slogan("x1 x2 x3 x4 x5 x6 x7 x8 x9 x10 x11 x12", 7, Posts.T0, 60, 4, "s").OrderBy(p => p.Post.CreatedAt).ToList();
        Assert.Empty(RunTimed(burst));
        Assert.NotEmpty(RunTimed(burst, new NetworkOptions { BurstMinAccounts = 6 }));
        Assert.Empty(RunTimed(burst, new NetworkOptions { BurstMinAccounts = 0 }));
    }

    [Fact]
    public void The_memory_of_current_texts_survives_a_state_restore()
    {
        const string chant = "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k11 l12";
        var history = Slogan(chant, 60, Posts.T0, 3 * 3600, 1, "h").OrderBy(p => p.Post.CreatedAt).ToList();
        var burst = Slogan(chant, 12, Posts.T0.AddHours(3.2), 60, 2, "b").OrderBy(p => p.Post.CreatedAt).ToList();
        var first = new NetworkEngine(new NetworkOptions());
        foreach (var p in history) first.Observe(p);
        var second = new NetworkEngine(new NetworkOptions());
        second.LoadState(first.SaveState());
        var signals = new List<Signal>();
        foreach (var p in burst) second.Observe(p);
        second.Flush();
        second.DrainSignals(signals);
        Assert.DoesNotContain(signals, s => s.Kind == AlertKinds.CoordinatedCampaign);
    }

    private static (List<Signal> Signals, NetworkEngine Engine) RunEngine(IEnumerable<EarlyWarning.Core.Posts.PostEnvelope> posts, NetworkOptions options,
        NetworkEngine? engine = null, bool flush = true)
    {
        engine ??= new NetworkEngine(options);
        var signals = new List<Signal>();
        foreach (var p in posts)
        {
            engine.Observe(p);
            engine.DrainSignals(signals);
        }
        if (flush) engine.Flush();
        engine.DrainSignals(signals);
        return (signals, engine);
    }

    private static void AssertSameSignals(List<Signal> expected, List<Signal> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Kind, actual[i].Kind);
            Assert.Equal(expected[i].WindowStart, actual[i].WindowStart);
            Assert.Equal(expected[i].WindowEnd, actual[i].WindowEnd);
            Assert.Equal(expected[i].Score, actual[i].Score);
            Assert.Equal(expected[i].Baseline, actual[i].Baseline);
            Assert.Equal(expected[i].Evidence.Accounts, actual[i].Evidence.Accounts);
            Assert.Equal(expected[i].Evidence.PostIds, actual[i].Evidence.PostIds);
        }
    }

    [Theory]
    [InlineData(1, 120)]
    [InlineData(7, 120)]
    [InlineData(1, 25)]
    [InlineData(7, 25)]
    public void Reusing_the_evaluation_of_an_unchanged_group_gives_what_recomputing_gives(int seed, int horizonMinutes)
    {
        // A short horizon makes posts leave a group between its detections (a change the reuse must notice too).
        var stream = CampaignGenerator.Generate(seed);
        var horizon = TimeSpan.FromMinutes(horizonMinutes);
        var (fresh, recomputing) = RunEngine(stream.Posts, new NetworkOptions { ReuseGroupEvaluations = false, CampaignHorizon = horizon });
        var (reused, engine) = RunEngine(stream.Posts, new NetworkOptions { CampaignHorizon = horizon });
        output.WriteLine($"seed {seed}: groups tested {engine.Stats.GroupsTested}, evaluated {engine.Stats.GroupsEvaluated} (recomputing: {recomputing.Stats.GroupsEvaluated})");
        Assert.Contains(fresh, s => s.Kind == AlertKinds.CoordinatedCampaign);
        AssertSameSignals(fresh, reused);
        Assert.Equal(recomputing.Stats.GroupsTested, recomputing.Stats.GroupsEvaluated);
        Assert.Equal(recomputing.Stats.GroupsTested, engine.Stats.GroupsTested);
        Assert.InRange(engine.Stats.GroupsEvaluated, 1, engine.Stats.GroupsTested - 1);
    }

    [Fact]
    public void Large_groups_are_evaluated_on_their_own_cadence_and_the_campaign_is_still_found()
    {
        var stream = CampaignGenerator.Generate(3);
        // Every candidate group counts as large here, so each one waits for its 10-minute turn.
        var options = new NetworkOptions { LargeGroupAccounts = 4, LargeGroupInterval = TimeSpan.FromMinutes(10) };
        var (signals, engine) = RunEngine(stream.Posts, options);
        var (_, everyMinute) = RunEngine(stream.Posts, new NetworkOptions());
        output.WriteLine($"tested {engine.Stats.GroupsTested} (every minute: {everyMinute.Stats.GroupsTested}), deferred {engine.Stats.LargeGroupsDeferred}");
        Assert.True(engine.Stats.LargeGroupsDeferred > 0, "no group was deferred");
        Assert.True(engine.Stats.GroupsTested < everyMinute.Stats.GroupsTested);
        var flagged = signals.Where(s => s.Kind == AlertKinds.CoordinatedCampaign).SelectMany(s => s.Evidence.Accounts).ToHashSet();
        var tp = flagged.Count(stream.Coordinated.Contains);
        Assert.True(tp >= 0.9 * flagged.Count && tp >= 0.9 * stream.Coordinated.Count, $"flagged {flagged.Count}, true {tp} of {stream.Coordinated.Count}");
        Assert.DoesNotContain(flagged, stream.Decoys.Contains);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public void The_large_group_cadence_survives_a_state_restore(double at)
    {
        var stream = CampaignGenerator.Generate(3);
        var options = new NetworkOptions { LargeGroupAccounts = 4, LargeGroupInterval = TimeSpan.FromMinutes(10) };
        var (whole, _) = RunEngine(stream.Posts, options);
        var cut = (int)(stream.Posts.Count * at);
        var (signals, first) = RunEngine(stream.Posts.Take(cut), options, flush: false);
        var second = new NetworkEngine(options);
        second.LoadState(first.SaveState());
        var (rest, _) = RunEngine(stream.Posts.Skip(cut), options, second);
        signals.AddRange(rest);
        AssertSameSignals(whole, signals);
    }
}
