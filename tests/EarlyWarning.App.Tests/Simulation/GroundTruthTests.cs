using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Tests;
using Xunit.Abstractions;

namespace EarlyWarning.App.Tests.Simulation;

[Collection(SimulatorCollection.Name)]
public sealed class GroundTruthTests(SimulatorFixture f, ITestOutputHelper output)
{
    private static readonly Lazy<Lexicon> Lex = new(() => Lexicon.LoadDirectory(Path.Combine(TestPaths.RepoRoot, "models", "lexicons")));

    private IEnumerable<Post> PostsOf(Incident inc) => inc.PostIds.Select(id => f.Posts[f.IndexById[id]]);

    [Fact]
    public void Truth_lists_the_five_incident_kinds_with_allowed_scopes()
    {
        var kinds = f.Truth.Incidents.Select(i => i.Kind).Order().ToArray();
        Assert.Equal(new[] { AlertKinds.CoordinatedCampaign, AlertKinds.EmergingTerm, AlertKinds.Incitement, AlertKinds.VolumeDrop, AlertKinds.VolumeSpike }, kinds);
        Assert.Equal(f.Truth.Incidents.Count, f.Truth.Incidents.Select(i => i.Id).Distinct().Count());
        foreach (var inc in f.Truth.Incidents)
        {
            Assert.NotNull(inc.Scope.Country);
            if (inc.Scope.TargetGroup is { } g) Assert.Contains(g, LexiconFileTests.TargetGroups);
            Assert.True(inc.Onset < inc.End);
            Assert.NotEmpty(inc.PostIds);
        }
        Assert.Equal("election-day", f.Truth.Scenario);
        Assert.Equal(1, f.Truth.Seed);
    }

    [Fact]
    public void Every_truth_post_exists_and_falls_inside_its_incident()
    {
        foreach (var inc in f.Truth.Incidents)
        {
            Assert.Equal(inc.PostIds.Count, inc.PostIds.Distinct().Count());
            var authors = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in inc.PostIds.Concat(inc.DecoyPostIds))
            {
                Assert.True(f.IndexById.TryGetValue(id, out var i), $"{inc.Id}: {id} is not in the stream");
                var p = f.Posts[i];
                Assert.InRange(p.CreatedAt, inc.Onset, inc.End);
                Assert.Equal(inc.Scope.Country, p.Country);
                authors.Add(p.AuthorId);
            }
            Assert.Subset(authors, inc.Accounts.Concat(inc.DecoyAccounts).ToHashSet());
        }
    }

    [Fact]
    public void Incidents_do_not_overlap_and_the_first_comes_within_eight_hours()
    {
        var incidents = f.Truth.Incidents.OrderBy(i => i.Onset).ToList();
        Assert.True(incidents[0].Onset - f.Truth.Start <= TimeSpan.FromHours(8));
        for (var a = 0; a < incidents.Count; a++)
            for (var b = a + 1; b < incidents.Count; b++)
            {
                var x = incidents[a];
                var y = incidents[b];
                var sameArea = x.Scope.Country == y.Scope.Country && (x.Scope.Region is null || y.Scope.Region is null || x.Scope.Region == y.Scope.Region);
                var overlap = x.Onset < y.End && y.Onset < x.End;
                Assert.False(sameArea && overlap, $"{x.Id} and {y.Id} overlap");
            }
        // Everything but the first is on or around polling day (8 November, UTC).
        Assert.All(incidents.Skip(1), i => Assert.Equal(8, i.Onset.UtcDateTime.Day));
    }

    [Fact]
    public void Volume_spike_is_ten_times_the_usual_hateful_rate_and_at_least_five_a_minute()
    {
        var inc = f.Incident(AlertKinds.VolumeSpike);
        var posts = PostsOf(inc).ToList();
        var minutes = (inc.End - inc.Onset).TotalMinutes;
        Assert.InRange(minutes, 45, 90);
        Assert.True(posts.Count / minutes >= 5, $"{posts.Count / minutes:F1}/min");
        Assert.All(posts, p => Assert.Equal(inc.Scope.Region, p.Region));
        Assert.True(inc.Accounts.Count >= posts.Count / 3, "the spike is by many different accounts");
        // The usual rate: background hateful posts about the same group in the same region, polling day daytime.
        var group = Lex.Value.Entries.Where(e => e.Target == inc.Scope.TargetGroup).ToList();
        var from = inc.Onset.AddHours(-3);
        var background = 0;
        for (var i = 0; i < f.Posts.Length; i++)
        {
            var p = f.Posts[i];
            if (p.Region != inc.Scope.Region || p.CreatedAt < from || p.CreatedAt >= inc.Onset.AddHours(5)) continue;
            if (p.CreatedAt >= inc.Onset && p.CreatedAt < inc.End) continue;
            if (f.Simulator.KindAt(i) == PostKind.Hate && Lex.Value.Match(p.Text).Any(m => m.Entry.Target == inc.Scope.TargetGroup)) background++;
        }
        var usual = background / (7 * 60.0);
        output.WriteLine($"spike {posts.Count / minutes:F2}/min vs usual {usual:F3}/min; {inc.Accounts.Count} accounts");
        Assert.True(posts.Count / minutes >= 10 * usual);
        Assert.All(posts, p => Assert.Contains(Lex.Value.Match(p.Text), m => LexiconCategories.IsHateful(m.Entry.Category)));
        Assert.All(posts, p => Assert.Contains(Lex.Value.Match(p.Text), m => m.Entry.Target == inc.Scope.TargetGroup));
        // Most spike posts name the group with a slur or coded term of its own, not only a generic one.
        Assert.True(posts.Count(p => Lex.Value.Match(p.Text).Any(m => m.Entry.Target == inc.Scope.TargetGroup && LexiconCategories.IsHateful(m.Entry.Category))) > posts.Count / 2);
        Assert.NotEmpty(group);
    }

    [Fact]
    public void Volume_drop_cuts_the_region_to_a_few_percent()
    {
        var inc = f.Incident(AlertKinds.VolumeDrop);
        var hours = (inc.End - inc.Onset).TotalHours;
        Assert.InRange(hours, 2.5, 3.5);
        int Count(DateTimeOffset a, DateTimeOffset b) => f.Posts.Count(p => p.Region == inc.Scope.Region && p.CreatedAt >= a && p.CreatedAt < b);
        var during = Count(inc.Onset, inc.End);
        Assert.Equal(during, inc.PostIds.Count);
        // Same local hours on the following (non-polling) day 9 November, as the reference volume.
        var reference = Count(inc.Onset.AddDays(2), inc.End.AddDays(2)) / 1.15;
        output.WriteLine($"drop: {during} posts during vs ~{reference:F0} expected");
        Assert.True(during < 0.1 * reference, $"{during} vs {reference:F0}");
        Assert.True(reference > 400);
        // Local daytime.
        var local = inc.Onset.ToOffset(TimeSpan.FromMinutes(390));
        Assert.InRange(local.Hour, 8, 14);
    }

    [Fact]
    public void Incitement_comes_from_an_influential_account_with_reposts()
    {
        var inc = f.Incident(AlertKinds.Incitement);
        var posts = PostsOf(inc).ToList();
        var original = posts[0];
        Assert.Equal(inc.Onset, original.CreatedAt);
        Assert.Equal(inc.Accounts[0], original.AuthorId);
        Assert.True(original.AuthorFollowers >= 100_000);
        Assert.Null(original.RepostOf);
        Assert.Equal(inc.Scope.Region, original.Region);
        var matches = Lex.Value.Match(original.Text);
        Assert.Contains(matches, m => m.Entry.Category == LexiconCategories.Incitement);
        Assert.Contains(matches, m => m.Entry.Target == inc.Scope.TargetGroup);
        var reposts = posts.Skip(1).ToList();
        Assert.True(reposts.Count >= 20);
        Assert.All(reposts, r => Assert.Equal(original.Id, r.RepostOf));
        Assert.Equal(reposts.Count, reposts.Select(r => r.AuthorId).Distinct().Count());
    }

    [Fact]
    public void Campaign_waves_are_jittered_paraphrases_with_a_decoy_burst()
    {
        var inc = f.Incident(AlertKinds.CoordinatedCampaign);
        Assert.InRange(inc.Accounts.Count, 20, 30);
        Assert.InRange(inc.DecoyAccounts.Count, 35, 45);
        Assert.Empty(inc.Accounts.Intersect(inc.DecoyAccounts));
        var posts = PostsOf(inc).ToList();
        Assert.All(posts, p => Assert.Equal(inc.Scope.Region, p.Region));
        var tag = Assert.Single(posts.SelectMany(p => p.Hashtags).Distinct());
        // Waves: cluster posts grouped by gaps of more than five minutes.
        var waves = new List<List<Post>> { new() };
        foreach (var p in posts.OrderBy(p => p.CreatedAt))
        {
            if (waves[^1].Count > 0 && (p.CreatedAt - waves[^1][^1].CreatedAt).TotalMinutes > 5) waves.Add([]);
            waves[^1].Add(p);
        }
        Assert.InRange(waves.Count, 4, 8);
        foreach (var wave in waves)
        {
            Assert.Equal(inc.Accounts.Count, wave.Count);
            Assert.Equal(wave.Count, wave.Select(p => p.AuthorId).Distinct().Count());
            var spread = (wave[^1].CreatedAt - wave[0].CreatedAt).TotalSeconds;
            Assert.InRange(spread, 10, 90);
            // Paraphrases: all different, yet most words shared.
            Assert.Equal(wave.Count, wave.Select(p => p.Text).Distinct().Count());
            var sims = new List<double>();
            for (var a = 0; a < wave.Count; a++)
                for (var b = a + 1; b < wave.Count; b++) sims.Add(Jaccard(wave[a].Text, wave[b].Text));
            output.WriteLine($"wave at {wave[0].CreatedAt:HH:mm:ss}: word Jaccard min {sims.Min():F2} mean {sims.Average():F2}, spread {spread:F0}s");
            Assert.True(sims.Min() >= 0.25, $"two paraphrases share only {sims.Min():F2} of their words");
            Assert.True(sims.Average() >= 0.55, $"paraphrases share on average {sims.Average():F2} of their words");
            Assert.All(wave, p => Assert.Contains(Lex.Value.Match(p.Text), m => m.Entry.Target == inc.Scope.TargetGroup));
        }
        // Decoys: same hashtag, same period, varied texts, not hateful.
        var decoys = inc.DecoyPostIds.Select(id => (Index: f.IndexById[id], Post: f.Posts[f.IndexById[id]])).ToList();
        Assert.All(decoys, d => Assert.Contains(tag, d.Post.Hashtags));
        Assert.Equal(decoys.Count, decoys.Select(d => d.Post.Text).Distinct().Count());
        Assert.All(decoys, d => Assert.DoesNotContain(Lex.Value.Match(d.Post.Text), m => LexiconCategories.IsHateful(m.Entry.Category)));
        // Many decoy posts fall close to a wave, so timing alone cannot separate them from the cluster.
        var waveStarts = waves.Select(w => w[0].CreatedAt).ToList();
        var nearWave = decoys.Count(d => waveStarts.Any(w => Math.Abs((d.Post.CreatedAt - w).TotalMinutes) <= 3.5));
        Assert.True(nearWave >= decoys.Count / 4, $"{nearWave} of {decoys.Count} decoy posts near a wave");
        var decoyMax = decoys.Max(d => Jaccard(decoys[0].Post.Text, d.Post.Text == decoys[0].Post.Text ? "" : d.Post.Text));
        Assert.True(decoyMax < 0.9);
    }

    [Fact]
    public void Campaign_paraphrase_generator_is_distinct_and_close()
    {
        var rng = new SimRandom(7);
        foreach (var template in Phrasebook.CampaignWaves)
        {
            var variants = Paraphrase.Variants(template, 25, ref rng);
            Assert.Equal(25, variants.Distinct().Count());
            var baseline = Paraphrase.Default(template);
            var words = baseline.Split(' ').Length;
            Assert.InRange(words, 10, 16);
            foreach (var v in variants)
            {
                // One to three slots swapped, a slot being a word or a two-word phrase (counted as a multiset).
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var w in baseline.Split(' ')) counts[w] = counts.GetValueOrDefault(w) + 1;
                foreach (var w in v.Split(' ')) counts[w] = counts.GetValueOrDefault(w) - 1;
                var changed = counts.Values.Sum(Math.Abs);
                Assert.InRange(changed, 1, 9);
                Assert.True(Jaccard(baseline, v) >= 0.45, "a paraphrase swaps only a few words");
            }
            Assert.DoesNotContain(baseline, variants);
        }
    }

    [Fact]
    public void Emerging_term_is_new_grows_and_is_used_by_many_accounts()
    {
        var inc = f.Incident(AlertKinds.EmergingTerm);
        var term = inc.Scope.Term!;
        Assert.Equal(term, term.ToLowerInvariant());
        Assert.DoesNotContain(' ', term);
        Assert.DoesNotContain(Lex.Value.Entries, e => e.Normalized.Contains(term, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "models", "lexicons"), "*.tsv"))
            Assert.DoesNotContain(term, File.ReadAllText(file), StringComparison.OrdinalIgnoreCase);
        var withTerm = new List<Post>();
        foreach (var p in f.Posts)
            if (p.Text.Contains(term, StringComparison.OrdinalIgnoreCase)) withTerm.Add(p);
        Assert.All(withTerm, p => Assert.True(p.CreatedAt >= inc.Onset, "the term appears before its onset"));
        Assert.Equal(inc.PostIds.Count, withTerm.Count);
        Assert.All(withTerm, p => Assert.Equal(inc.Scope.Country, p.Country));
        // Every use is in a post the lexicon flags as hateful against the scope's group.
        Assert.All(withTerm, p => Assert.Contains(Lex.Value.Match(p.Text), m => LexiconCategories.IsHateful(m.Entry.Category)));
        Assert.All(withTerm, p => Assert.Contains(Lex.Value.Match(p.Text), m => m.Entry.Target == inc.Scope.TargetGroup));
        // Growth: the last hour is the busiest, with 20+ uses by 15+ accounts.
        var byHour = withTerm.GroupBy(p => (int)(p.CreatedAt - inc.Onset).TotalHours).OrderBy(g => g.Key).ToList();
        output.WriteLine("emerging term per hour: " + string.Join(", ", byHour.Select(g => $"{g.Count()} posts/{g.Select(p => p.AuthorId).Distinct().Count()} accounts")));
        Assert.True(byHour[0].Count() < byHour[^1].Count());
        Assert.True(byHour[^1].Count() >= 20);
        Assert.True(byHour[^1].Select(p => p.AuthorId).Distinct().Count() >= 15);
    }

    [Fact]
    public void Truth_round_trips_through_json()
    {
        var dir = TestPaths.NewTempDir("ew-truth");
        try
        {
            var path = Path.Combine(dir, "sub", "truth.json");
            f.Truth.WriteJson(path);
            var loaded = GroundTruth.Load(path);
            Assert.Equal(f.Truth.Scenario, loaded.Scenario);
            Assert.Equal(f.Truth.Seed, loaded.Seed);
            Assert.Equal(f.Truth.Posts, loaded.Posts);
            Assert.Equal(f.Truth.Start, loaded.Start);
            Assert.Equal(f.Truth.End, loaded.End);
            Assert.Equal(f.Truth.Incidents.Count, loaded.Incidents.Count);
            for (var i = 0; i < loaded.Incidents.Count; i++)
            {
                var a = f.Truth.Incidents[i];
                var b = loaded.Incidents[i];
                Assert.Equal(a.Id, b.Id);
                Assert.Equal(a.Kind, b.Kind);
                Assert.Equal(a.Scope, b.Scope);
                Assert.Equal(a.Onset, b.Onset);
                Assert.Equal(a.End, b.End);
                Assert.Equal(a.Accounts, b.Accounts);
                Assert.Equal(a.PostIds, b.PostIds);
                Assert.Equal(a.DecoyAccounts, b.DecoyAccounts);
            }
            var text = File.ReadAllText(path);
            Assert.Contains("\"target_group\": \"rohingya\"", text, StringComparison.Ordinal);
            Assert.Contains("\"onset\": \"2026-11-", text, StringComparison.Ordinal);
            File.WriteAllText(path, "{\"scenario\":1}");
            Assert.Throws<InvalidDataException>(() => GroundTruth.Load(path));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Truth_is_complete_before_generation_and_does_not_change()
    {
        var sim = new Simulator(posts: 50_000, seed: 5);
        var before = sim.Truth.Incidents.Sum(i => i.PostIds.Count);
        var ids = sim.Truth.Incidents.SelectMany(i => i.PostIds).ToHashSet();
        var seen = 0;
        var decoder = new PostDecoder();
        foreach (var raw in sim.Generate())
        {
            Assert.True(decoder.TryDecode(raw.Json, out var p, out _));
            if (ids.Contains(p!.Id)) seen++;
        }
        Assert.Equal(before, seen);
        Assert.Equal(before, sim.Truth.Incidents.Sum(i => i.PostIds.Count));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Incidents_stay_detectable_at_50k_posts_for_other_seeds(int seed)
    {
        var sim = new Simulator(posts: 50_000, seed: seed);
        var decoder = new PostDecoder();
        var posts = new Dictionary<string, Post>(StringComparer.Ordinal);
        var all = new List<Post>(sim.Count);
        foreach (var raw in sim.Generate())
        {
            Assert.True(decoder.TryDecode(raw.Json, out var p, out _));
            posts[p!.Id] = p;
            all.Add(p);
        }
        Incident Get(string kind) => sim.Truth.Incidents.Single(i => i.Kind == kind);

        var spike = Get(AlertKinds.VolumeSpike);
        Assert.True(spike.PostIds.Count / (spike.End - spike.Onset).TotalMinutes >= 5);

        var drop = Get(AlertKinds.VolumeDrop);
        int Count(DateTimeOffset a, DateTimeOffset b) => all.Count(p => p.Region == drop.Scope.Region && p.CreatedAt >= a && p.CreatedAt < b);
        var reference = Count(drop.Onset.AddDays(2), drop.End.AddDays(2)) / 1.15;
        Assert.True(Count(drop.Onset, drop.End) < 0.1 * reference);
        Assert.True(reference > 100);

        var campaign = Get(AlertKinds.CoordinatedCampaign);
        Assert.Equal(25, campaign.Accounts.Count);
        Assert.Equal(25 * Phrasebook.CampaignWaves.Length, campaign.PostIds.Count);
        Assert.All(campaign.PostIds, id => Assert.Contains(campaign.Accounts, a => a == posts[id].AuthorId));
        // The cluster's ids are spread over the id space, not a tell-tale block.
        var numbers = campaign.Accounts.Select(a => int.Parse(a.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        Assert.True(numbers[^1] - numbers[0] > 1_000);

        var emerging = Get(AlertKinds.EmergingTerm);
        var lastHour = emerging.PostIds.Select(id => posts[id]).Where(p => p.CreatedAt >= emerging.End.AddHours(-1)).ToList();
        Assert.True(lastHour.Count >= 20);
        Assert.True(lastHour.Select(p => p.AuthorId).Distinct().Count() >= 15);

        var incitement = Get(AlertKinds.Incitement);
        Assert.True(posts[incitement.PostIds[0]].AuthorFollowers >= 100_000);
    }

    internal static double Jaccard(string a, string b)
    {
        var x = a.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var y = b.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var inter = x.Count(y.Contains);
        var union = x.Count + y.Count - inter;
        return union == 0 ? 1 : inter / (double)union;
    }
}
