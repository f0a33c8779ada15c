using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Signals.Engine;
using Xunit.Abstractions;

namespace EarlyWarning.Signals.Tests;

public sealed class SignalEngineTests(ITestOutputHelper log)
{
    private static readonly DateTimeOffset S = Streams.Start;

    /// <summary>Injects hateful posts against one group in one region at a rate per minute between two times.</summary>
    private static Func<DateTimeOffset, IEnumerable<PostEnvelope>> Spike(int seed, string country, string region, string target,
        DateTimeOffset onset, DateTimeOffset end, double perMinute)
    {
        var rng = new Random(seed);
        return t0 =>
        {
            var list = new List<PostEnvelope>();
            if (t0.AddMinutes(1) <= onset || t0 >= end) return list;
            var n = Synthetic.Poisson(rng, perMinute);
            for (var i = 0; i < n; i++)
            {
                var at = t0.AddSeconds(rng.Next(60));
                if (at < onset || at >= end) continue;
                list.Add(Synthetic.Post(at, country, region, Labels.Hate, target, author: $"u:spike:{rng.Next(60)}",
                    followers: rng.Next(10, 500), incitement: i % 4 == 0 ? 0.7f : 0.1f, terms: ["term-a"]));
            }
            return list;
        };
    }

    [Fact]
    public void Spike_is_alerted_within_five_minutes_of_onset_and_only_in_its_scope()
    {
        var h = new EngineHarness();
        var onset = S.AddHours(6).AddSeconds(150);
        var end = onset.AddHours(1);
        h.Feed(Streams.Background(11, S, 8 * 60, Streams.Myanmar, extra: Spike(12, "MM", "Rakhine", "rohingya", onset, end, 5)));
        h.Finish();
        var spikes = h.Of(AlertKinds.VolumeSpike);
        var mine = spikes.Where(a => a.Scope == new Scope("MM", "Rakhine", "rohingya")).ToList();
        Assert.NotEmpty(mine);
        var first = mine[0];
        var delay = first.DetectedAt - onset;
        log.WriteLine($"spike detected {delay.TotalMinutes:0.00} event-time minutes after onset; {mine.Count} alerts over the 60-minute spike; severity {first.Severity}");
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Assert.All(spikes, a => Assert.Equal(new Scope("MM", "Rakhine", "rohingya"), a.Scope));
        Assert.InRange(mine.Count, 2, 4); // 60+ minutes at most 30 per alert
        Assert.Contains("Rohingya", first.Explanation, StringComparison.Ordinal);
        Assert.Contains("Rakhine", first.Explanation, StringComparison.Ordinal);
        Assert.InRange(first.Evidence.PostIds.Count, 1, 10);
        Assert.InRange(first.Evidence.Excerpts.Count, 1, 3);
        Assert.All(first.Evidence.Excerpts, x => Assert.True(x.Length <= 140));
        Assert.Contains("term-a", first.Evidence.TopTerms);
        Assert.Equal(Alert.MakeId(AlertKinds.VolumeSpike, first.Scope, first.WindowStart), first.Id);
    }

    [Fact]
    public void Alert_windows_are_capped_at_30_minutes_and_a_continuing_anomaly_extends_instead_of_duplicating()
    {
        var h = new EngineHarness();
        var onset = S.AddHours(3);
        var end = onset.AddMinutes(75);
        h.Feed(Streams.Background(21, S, 5 * 60, Streams.Kenya, extra: Spike(22, "KE", "Nairobi", "luo", onset, end, 6)));
        h.Finish();
        var alerts = h.Of(AlertKinds.VolumeSpike);
        log.WriteLine($"{alerts.Count} alerts, {h.Versions.Count(v => v.Kind == AlertKinds.VolumeSpike)} drained versions");
        Assert.InRange(alerts.Count, 3, 4);
        foreach (var a in alerts) Assert.True(a.WindowEnd - a.WindowStart <= TimeSpan.FromMinutes(30), $"window {a.WindowStart:t}..{a.WindowEnd:t}");
        for (var i = 1; i < alerts.Count; i++) Assert.True(alerts[i].WindowStart >= alerts[i - 1].WindowEnd, "alert windows overlap");
        // Updates reuse the id: many drained versions, few distinct alerts.
        Assert.True(h.Versions.Count(v => v.Kind == AlertKinds.VolumeSpike) > alerts.Count);
        Assert.All(alerts, a => Assert.Equal(Alert.MakeId(a.Kind, a.Scope, a.WindowStart), a.Id));
        Assert.True(alerts[0].Observed >= 20);
    }

    [Fact]
    public void No_false_alerts_on_three_days_of_stationary_diurnal_poisson_traffic()
    {
        var regions = Streams.Myanmar.Concat(Streams.Kenya).ToArray();
        var h = new EngineHarness();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        h.Feed(Streams.Background(31, S, 3 * 1440, regions));
        h.Finish();
        var alerts = h.Alerts.Values.ToList();
        log.WriteLine($"{h.Fed} posts, {regions.Length} regions x 2 target groups, 3 days: {alerts.Count} alerts " +
            $"({string.Join(", ", alerts.GroupBy(a => a.Kind).Select(g => g.Key + "=" + g.Count()))}); {sw.ElapsedMilliseconds} ms");
        // Requirement: at most one false alert per region per simulated day. Measured bound asserted: none at all.
        Assert.True(alerts.Count <= regions.Length * 3);
        Assert.Empty(alerts);
    }

    [Fact]
    public void Aggregates_count_every_post_once_in_closed_five_minute_buckets()
    {
        var h = new EngineHarness();
        var posts = Streams.Background(41, S, 90, Streams.Myanmar).ToList();
        // Two late posts: one within lateness, one after its bucket closed (re-emitted with the corrected total).
        posts.Insert(posts.Count / 2, Synthetic.Post(posts[posts.Count / 2].Post.CreatedAt.AddSeconds(-40), "MM", "Yangon"));
        posts.Insert(posts.Count * 3 / 4, Synthetic.Post(posts[posts.Count * 3 / 4].Post.CreatedAt.AddMinutes(-12), "MM", "Shan", Labels.Offensive));
        h.Feed(posts);
        Assert.NotEmpty(h.Aggregates);
        var wm = h.Engine.Watermark!.Value;
        Assert.All(h.Aggregates, p => Assert.True(p.BucketStart.AddMinutes(5) <= wm, "an open bucket was emitted"));
        h.Finish();
        var last = h.Aggregates.GroupBy(p => (p.BucketStart, p.Country, p.Region, p.TargetGroup, p.Label)).Select(g => g.Last()).ToList();
        Assert.Equal(posts.Count, last.Sum(p => p.Count));
        Assert.Equal(1, h.Engine.Stats.LatePosts);
        Assert.All(last, p => Assert.Equal(0, p.BucketStart.ToUnixTimeSeconds() % 300));
        Assert.Contains(last, p => p.Region == "Shan" && p.Label == Labels.Offensive && p.Count == 1);
        Assert.Contains(last, p => p.Label == Labels.Hate && p.TargetGroup == "rohingya");
        Assert.Contains(last, p => p.Label == Labels.None && p.TargetGroup == "");
    }

    [Fact]
    public void A_series_key_longer_than_the_lookup_buffer_is_counted_like_a_short_one()
    {
        // Series are found by their key's characters in a 256-character buffer; a longer key takes the string path.
        var h = new EngineHarness();
        var longRegion = new string('r', 400);
        var posts = new List<PostEnvelope>();
        for (var i = 0; i < 12; i++)
        {
            posts.Add(Synthetic.Post(S.AddSeconds(10 * i), "MM", longRegion));
            posts.Add(Synthetic.Post(S.AddSeconds((10 * i) + 5), "MM", "Yangon"));
        }
        h.Feed(posts);
        h.Finish();
        var last = h.Aggregates.GroupBy(p => (p.BucketStart, p.Country, p.Region, p.TargetGroup, p.Label)).Select(g => g.Last()).ToList();
        Assert.Equal(12, last.Where(p => p.Region == longRegion).Sum(p => p.Count));
        Assert.Equal(12, last.Where(p => p.Region == "Yangon").Sum(p => p.Count));
        Assert.Equal(2, last.Count);
        Assert.Equal(2, h.Engine.SeriesCount.Traffic);
    }

    [Fact]
    public void Volume_drop_is_alerted_within_five_minutes_and_a_stream_wide_gap_is_not()
    {
        var regions = Streams.Myanmar.Concat(Streams.Kenya).ToArray();
        var h = new EngineHarness();
        var onset = S.AddHours(10).AddSeconds(20);
        var gapFrom = S.AddHours(12);
        var gapTo = gapFrom.AddMinutes(20);
        h.Feed(Streams.Background(51, S, 13 * 60, regions, traffic: 10,
            keep: (r, t) => !(r.Name == "Mombasa" && t >= onset.AddSeconds(-20) && t < onset.AddMinutes(45)) && !(t >= gapFrom && t < gapTo)));
        h.Finish();
        var drops = h.Of(AlertKinds.VolumeDrop);
        log.WriteLine($"drops: {string.Join("; ", drops.Select(a => $"{a.Scope} {a.WindowStart:HH:mm}-{a.WindowEnd:HH:mm} detected {a.DetectedAt:HH:mm:ss} obs {a.Observed} exp {a.Baseline:0}"))}; gap minutes {h.Engine.Stats.StreamGapMinutes}");
        Assert.NotEmpty(drops);
        Assert.All(drops, a => Assert.Equal(new Scope("KE", "Mombasa"), a.Scope));
        Assert.InRange(drops[0].DetectedAt - onset, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Assert.Contains("Mombasa", drops[0].Explanation, StringComparison.Ordinal);
        Assert.True(h.Engine.Stats.StreamGapMinutes > 0);
        Assert.DoesNotContain(drops, a => a.WindowEnd > gapFrom);
    }

    [Fact]
    public void Incitement_by_an_influential_account_alerts_at_once_and_repeated_ordinary_incitement_raises_severity()
    {
        var h = new EngineHarness();
        var t = S.AddHours(2);
        var posts = Streams.Background(61, S, 4 * 60, Streams.Myanmar, extra: t0 =>
        {
            var l = new List<PostEnvelope>();
            if (t0 == t) l.Add(Synthetic.Post(t0.AddSeconds(5), "MM", "Yangon", Labels.Hate, "muslims", "u:big1", 25_000, incitement: 0.9f));
            if (t0 == t.AddMinutes(60) || t0 == t.AddMinutes(61) || t0 == t.AddMinutes(62))
                l.Add(Synthetic.Post(t0.AddSeconds(10), "MM", "Mandalay", Labels.Hate, "journalists", "u:small" + t0.Minute, 40, incitement: 0.8f));
            if (t0 == t.AddMinutes(63))
                l.Add(Synthetic.Post(t0.AddSeconds(30), "MM", "Mandalay", Labels.Hate, "journalists", "u:big2", 20_000, incitement: 0.8f));
            // Ordinary incitement alone, and an influential post without a target: no incitement alert.
            if (t0 == t.AddMinutes(90)) l.Add(Synthetic.Post(t0.AddSeconds(1), "MM", "Rakhine", Labels.Hate, "rohingya", "u:small9", 30, incitement: 0.9f));
            if (t0 == t.AddMinutes(91)) l.Add(Synthetic.Post(t0.AddSeconds(1), "MM", "Rakhine", Labels.Hate, null, "u:big3", 90_000, incitement: 0.9f));
            return l;
        });
        h.Feed(posts);
        h.Finish();
        var inc = h.Of(AlertKinds.Incitement);
        Assert.Equal(2, inc.Count);
        var a = inc[0];
        Assert.Equal(new Scope("MM", "Yangon", "muslims"), a.Scope);
        Assert.Equal(t, a.WindowStart);
        Assert.Equal(t.AddMinutes(1), a.WindowEnd);
        Assert.Equal(t.AddSeconds(5), a.DetectedAt);
        Assert.Equal(Severity.High, a.Severity);
        Assert.Contains("25,000 followers", a.Explanation, StringComparison.Ordinal);
        var b = inc[1];
        Assert.Equal(new Scope("MM", "Mandalay", "journalists"), b.Scope);
        Assert.Equal(Severity.Critical, b.Severity);
        Assert.Equal(4, b.Evidence.PostIds.Count);
        Assert.Contains("3 similar posts", b.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Emerging_term_is_a_new_word_adopted_by_many_accounts_not_a_common_word_a_copy_or_a_repost()
    {
        var h = new EngineHarness();
        var vocab = Enumerable.Range(0, 120).Select(i => "w" + i).Append("usiku").ToArray();
        var onset = S.AddHours(8);
        var rng = new Random(71);
        PostEnvelope Flagged(DateTimeOffset at, string author, string[] tokens, List<string>? terms = null, string? repostOf = null) =>
            Synthetic.Post(at, "MM", "Rakhine", Labels.Hate, "rohingya", author, tokens: tokens, terms: terms, lang: "my", repostOf: repostOf);
        var posts = Streams.Background(72, S, 10 * 60, Streams.Myanmar, hateful: 0.05, extra: t0 =>
        {
            var l = new List<PostEnvelope>();
            // Ordinary unflagged chatter: the all-post vocabulary, carried as token hashes as the text stage gives them.
            for (var i = 0; i < 3; i++)
            {
                var e = Synthetic.Post(t0.AddSeconds(rng.Next(60)), "MM", "Yangon", author: $"u:o{rng.Next(300)}");
                e.TokenHashes = [.. Enumerable.Range(0, 6).Select(_ => TokenHash.Of(vocab[rng.Next(vocab.Length)])).Distinct().Order()];
                l.Add(e);
            }
            var k = (int)(t0 - onset).TotalMinutes;
            if (k >= 0 && k < 15)
            {
                // The new coded term, written by many accounts minute after minute; beside it a common word (in the
                // vocabulary of all posts, though rare among flagged ones) and a known lexicon term.
                l.Add(Flagged(t0.AddSeconds(7), $"u:n{k}", ["newcode", "usiku", "lexword"], ["lexword"]));
                // A token pushed by only two accounts is not an emerging term.
                l.Add(Flagged(t0.AddSeconds(9), $"u:p{k % 2}", ["pairtok"]));
                // Reposts of one post repeat a word; they do not adopt it.
                l.Add(Flagged(t0.AddSeconds(11), $"u:r{k}", ["reposttok"], repostOf: "sim:orig"));
            }
            // A coordinated copy: twelve accounts within one minute (coordination detection's case, not this one).
            if (k == 20)
                for (var i = 0; i < 12; i++) l.Add(Flagged(t0.AddSeconds(2 + 4 * i), $"u:c{i}", ["copytok"]));
            // Before warm-up, a burst does not alert (no vocabulary to compare with).
            var e1 = (int)(t0 - S.AddHours(1)).TotalMinutes;
            if (e1 >= 0 && e1 < 15) l.Add(Flagged(t0.AddSeconds(3), $"u:e{e1}", ["earlytok"]));
            return l;
        });
        h.Feed(posts);
        h.Finish();
        var terms = h.Of(AlertKinds.EmergingTerm);
        log.WriteLine($"emerging: {string.Join("; ", terms.Select(a => $"{a.Scope} obs {a.Observed} at {a.DetectedAt:HH:mm:ss}"))}");
        var a = Assert.Single(terms);
        Assert.Equal(new Scope("MM", null, "rohingya", "my", "newcode"), a.Scope);
        Assert.InRange(a.DetectedAt - onset, TimeSpan.Zero, TimeSpan.FromMinutes(6));
        Assert.DoesNotContain("newcode", a.Explanation, StringComparison.Ordinal);
        Assert.True(a.Evidence.Accounts.Count >= 5);
        Assert.True(h.Engine.Stats.RepostsSkippedForTerms >= 15);
    }

    [Fact]
    public void Without_token_hashes_a_word_common_among_flagged_posts_is_not_emerging()
    {
        // A stream with no vocabulary from the text stage: novelty falls back to the flagged posts' own history.
        var h = new EngineHarness();
        var onset = S.AddHours(8);
        var posts = Streams.Background(73, S, 9 * 60, Streams.Kenya, extra: t0 =>
        {
            var l = new List<PostEnvelope>();
            var m = (int)(t0 - S).TotalMinutes;
            if (m % 3 == 0) l.Add(Synthetic.Post(t0.AddSeconds(5), "KE", "Kisumu", Labels.Offensive, null, $"u:b{m % 50}", tokens: ["oldword"], lang: "sw"));
            var k = (int)(t0 - onset).TotalMinutes;
            if (k >= 0 && k < 12)
                for (var i = 0; i < 2; i++)
                    l.Add(Synthetic.Post(t0.AddSeconds(10 + 20 * i), "KE", "Kisumu", Labels.Offensive, null, $"u:x{k}{i}", tokens: ["oldword", "freshword"], lang: "sw"));
            return l;
        });
        h.Feed(posts);
        h.Finish();
        var a = Assert.Single(h.Of(AlertKinds.EmergingTerm));
        Assert.Equal("freshword", a.Scope.Term);
    }

    [Fact]
    public void State_round_trip_continues_exactly_as_an_uninterrupted_engine()
    {
        var onset = S.AddHours(4);
        var posts = Streams.Background(81, S, 6 * 60, Streams.Kenya, extra: Spike(82, "KE", "Kisumu", "women", onset, onset.AddMinutes(50), 5)).ToList();
        var cut = posts.FindIndex(p => p.Post.CreatedAt >= onset.AddMinutes(10));
        var straight = new EngineHarness();
        straight.Feed(posts);
        straight.Finish();

        var first = new EngineHarness();
        first.Feed(posts.Take(cut));
        var saved = first.Engine.SaveState();
        var restored = new SignalEngine(new SignalOptions());
        restored.LoadState(saved);
        Assert.Equal(saved, restored.SaveState());
        first.Replace(restored);
        first.Feed(posts.Skip(cut));
        first.Finish();

        Assert.NotEmpty(straight.Alerts);
        Assert.Equal(Describe(straight), Describe(first));
        Assert.Equal(straight.Aggregates, first.Aggregates);
        // (Byte equality of the final states is not expected: dictionary order differs after removals.)
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(straight.Engine.Stats), System.Text.Json.JsonSerializer.Serialize(first.Engine.Stats));
        Assert.Equal(straight.Engine.SeriesCount, first.Engine.SeriesCount);
        log.WriteLine($"state at cut: {saved.Length} bytes; alerts {straight.Alerts.Count}");
    }

    [Fact]
    public void Signals_from_other_stages_become_alerts_with_the_same_rules()
    {
        var h = new EngineHarness();
        h.Feed(Streams.Background(91, S, 30, Streams.Myanmar));
        var s = new Signal
        {
            Kind = AlertKinds.CoordinatedCampaign,
            Scope = new Scope("MM", "Yangon", "muslims"),
            WindowStart = S.AddMinutes(20),
            WindowEnd = S.AddMinutes(25),
            Observed = 40,
            Reach = 50_000,
            IncitementShare = 0.5,
            Evidence = new Evidence { Accounts = [.. Enumerable.Range(0, 25).Select(i => "u:" + i)], PostIds = ["p1", "p2"] },
            Detector = "network",
        };
        h.Engine.AddSignal(s);
        h.Engine.AddSignal(s with { WindowStart = S.AddMinutes(24), WindowEnd = S.AddMinutes(28), Observed = 55 });
        h.Drain();
        var a = Assert.Single(h.Of(AlertKinds.CoordinatedCampaign));
        Assert.Equal(S.AddMinutes(28), a.WindowEnd);
        Assert.Equal(55, a.Observed);
        Assert.True(a.Severity >= Severity.Medium);
        Assert.Contains("human review", a.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_growing_campaign_is_tiled_into_alerts_whose_ids_do_not_depend_on_when_updates_came()
    {
        static Signal Wave(int endMinute) => new()
        {
            Kind = AlertKinds.CoordinatedCampaign,
            Scope = new Scope("KE", "Nairobi", "kikuyu"),
            WindowStart = S,
            WindowEnd = S.AddMinutes(endMinute),
            Observed = 25,
            Reach = 900,
            Evidence = new Evidence { Accounts = [.. Enumerable.Range(0, 25).Select(i => "u:" + i)], PostIds = ["p" + endMinute] },
            Detector = "network.coordination",
        };
        List<(DateTimeOffset Start, DateTimeOffset End, string Id)> Run(params int[] ends)
        {
            var h = new EngineHarness();
            foreach (var e in ends) h.Engine.AddSignal(Wave(e));
            h.Drain();
            return [.. h.Of(AlertKinds.CoordinatedCampaign).OrderBy(a => a.WindowStart).Select(a => (a.WindowStart, a.WindowEnd, a.Id))];
        }
        // Waves every 15 minutes (the suppression gap is shorter): one alert per 30-minute tile from the campaign's start.
        var all = Run(2, 17, 32, 47, 62, 77);
        Assert.Equal([S, S.AddMinutes(30), S.AddMinutes(60)], all.Select(a => a.Start));
        Assert.Equal([S.AddMinutes(17), S.AddMinutes(47), S.AddMinutes(77)], all.Select(a => a.End));
        Assert.All(all, a => Assert.True(a.End - a.Start <= TimeSpan.FromMinutes(30)));
        // Fewer, later updates (as after a restart or with other batch boundaries) land in the same alerts.
        var some = Run(17, 62, 77);
        Assert.Equal([all[0].Id, all[2].Id], some.Select(a => a.Id));
    }

    private static List<string> Describe(EngineHarness h) =>
        h.Alerts.Values.OrderBy(a => a.Id, StringComparer.Ordinal)
            .Select(a => $"{a.Id} {a.Kind} {a.Scope} {a.WindowStart:O} {a.WindowEnd:O} {a.DetectedAt:O} {a.Severity} {a.Score:R} {a.Observed} {a.Baseline:R} {a.Explanation} {string.Join(',', a.Evidence.PostIds)}")
            .ToList();
}
