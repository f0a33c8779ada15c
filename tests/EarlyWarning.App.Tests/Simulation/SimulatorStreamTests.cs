using System.Text;
using System.Text.RegularExpressions;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;
using EarlyWarning.Tests;
using Xunit.Abstractions;

namespace EarlyWarning.App.Tests.Simulation;

[Collection(SimulatorCollection.Name)]
public sealed partial class SimulatorStreamTests(SimulatorFixture f, ITestOutputHelper output)
{
    private static readonly string[] Countries = ["MM", "LK", "KE"];
    private static readonly Dictionary<string, string[]> RegionsOf = new()
    {
        ["MM"] = ["Rakhine", "Yangon", "Mandalay", "Shan", "Kachin"],
        ["LK"] = ["Western", "Northern", "Eastern"],
        ["KE"] = ["Nairobi", "Mombasa", "Kisumu", "Rift Valley"],
    };
    private static readonly Dictionary<string, string[]> LangsOf = new()
    {
        ["MM"] = ["my", "en"],
        ["LK"] = ["si", "ta", "en"],
        ["KE"] = ["sw", "en"],
    };
    private static readonly Dictionary<string, int> UtcOffsetMinutes = new() { ["MM"] = 390, ["LK"] = 330, ["KE"] = 180 };

    [Fact]
    public void Every_post_decodes_with_the_core_decoder()
    {
        Assert.Empty(f.DecodeFailures);
        Assert.All(f.Raw, r => Assert.DoesNotContain((byte)'\n', r.Json));
    }

    [Fact]
    public void Default_volume_is_near_200k_posts_over_three_days()
    {
        output.WriteLine($"posts={f.Raw.Length} plan={f.PlanTime.TotalMilliseconds:F0}ms generate={f.GenerateTime.TotalMilliseconds:F0}ms");
        Assert.InRange(f.Raw.Length, 196_000, 204_000);
        Assert.Equal(f.Raw.Length, f.Truth.Posts);
        Assert.Equal(f.Raw.Length, f.Simulator.Count);
        Assert.All(f.Posts, p => Assert.InRange(p.CreatedAt, f.Truth.Start, f.Truth.End.AddTicks(-1)));
    }

    [Fact]
    public void Stream_is_in_non_decreasing_event_time_order_and_created_at_matches()
    {
        for (var i = 1; i < f.Raw.Length; i++)
            Assert.True(f.Raw[i - 1].CreatedAt <= f.Raw[i].CreatedAt, $"post {i} goes back in time");
        for (var i = 0; i < f.Raw.Length; i += 97)
            Assert.Equal(f.Raw[i].CreatedAt, f.Posts[i].CreatedAt);
    }

    [Fact]
    public void Same_seed_gives_the_same_bytes()
    {
        Assert.Equal(f.Hash, SimulatorFixture.StreamHash(new Simulator("election-day", 1).Generate()));
    }

    [Fact]
    public void Different_seed_gives_a_different_stream_and_volume_scales()
    {
        var a = new Simulator("election-day", 1, 50_000);
        var b = new Simulator("election-day", 2, 50_000);
        var aPosts = a.Generate().ToList();
        Assert.NotEqual(SimulatorFixture.StreamHash(aPosts), SimulatorFixture.StreamHash(b.Generate()));
        Assert.InRange(aPosts.Count, 48_500, 51_500);
        // Same seed and volume again: identical.
        Assert.Equal(SimulatorFixture.StreamHash(aPosts), SimulatorFixture.StreamHash(new Simulator("election-day", 1, 50_000).Generate()));
    }

    [Fact]
    public void Unknown_scenario_is_rejected_with_the_known_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Simulator("no-such-scenario"));
        Assert.Contains("election-day", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-scenario", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Simulator(posts: 0));
    }

    [GeneratedRegex(@"^sim:[1-9][0-9]*$")] private static partial Regex PostIdPattern();
    [GeneratedRegex(@"^u:[1-9][0-9]*$")] private static partial Regex AccountIdPattern();
    [GeneratedRegex(@"^[a-z0-9_]{3,30}$")] private static partial Regex HandlePattern();
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")] private static partial Regex TimePattern();

    [Fact]
    public void Ids_are_synthetic_and_fields_follow_the_input_format()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < f.Posts.Length; i++)
        {
            var p = f.Posts[i];
            Assert.Matches(PostIdPattern(), p.Id);
            Assert.True(ids.Add(p.Id), "duplicate post id");
            Assert.Matches(AccountIdPattern(), p.AuthorId);
            Assert.Matches(HandlePattern(), p.AuthorHandle ?? "");
            Assert.All(p.Mentions, m => Assert.Matches(AccountIdPattern(), m));
            foreach (var r in new[] { p.ReplyTo, p.RepostOf, p.QuoteOf })
                if (r is not null) Assert.True(f.IndexById.TryGetValue(r, out var j) && j < i, "a reference must point at an earlier post");
            Assert.All(p.Urls, u => Assert.StartsWith("https://example.org/", u, StringComparison.Ordinal));
            Assert.Empty(p.Media);
            Assert.False(string.IsNullOrWhiteSpace(p.Text));
            Assert.Contains(p.Country, Countries);
            Assert.Contains(p.Region, RegionsOf[p.Country!]);
            Assert.Contains(p.Lang, LangsOf[p.Country!]);
            Assert.Equal("sim", p.Platform);
            Assert.InRange(p.AuthorFollowers, 0, 2_000_000);
        }
        // The raw bytes keep the RFC 3339 "Z" form.
        var sample = Encoding.UTF8.GetString(f.Raw[0].Json);
        var created = System.Text.Json.JsonDocument.Parse(sample).RootElement.GetProperty("created_at").GetString();
        Assert.Matches(TimePattern(), created!);
        // Nothing that looks like a real platform id (long numeric snowflakes, platform prefixes).
        foreach (var raw in f.Raw.Take(5000))
        {
            var s = Encoding.UTF8.GetString(raw.Json);
            Assert.DoesNotMatch(@"\d{12,}", s);
            Assert.DoesNotContain("\"tw:", s, StringComparison.Ordinal);
            Assert.DoesNotContain("\"fb:", s, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Accounts_have_realistic_populations()
    {
        var followers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in f.Posts) followers[p.AuthorId] = p.AuthorFollowers;
        output.WriteLine($"active accounts={followers.Count}");
        Assert.InRange(followers.Count, 12_000, 20_100);
        var influential = followers.Values.Count(v => v >= 50_000);
        Assert.InRange(influential, 20, 30);
        var sorted = followers.Values.Order().ToArray();
        var median = sorted[sorted.Length / 2];
        Assert.InRange(median, 50, 500);
        // Reply, repost, quote and mention edges exist.
        Assert.True(f.Posts.Count(p => p.ReplyTo is not null) > f.Posts.Length / 20);
        Assert.True(f.Posts.Count(p => p.RepostOf is not null) > f.Posts.Length / 20);
        Assert.True(f.Posts.Count(p => p.QuoteOf is not null) > f.Posts.Length / 100);
        Assert.True(f.Posts.Count(p => p.Hashtags.Count > 0) > f.Posts.Length / 10);
        Assert.All(f.Posts.Where(p => p.RepostOf is not null).Take(2000), p => Assert.Equal(f.Posts[f.IndexById[p.RepostOf!]].Text, p.Text));
    }

    [Fact]
    public void Every_region_has_daytime_volume_and_polling_day_is_busier()
    {
        foreach (var (country, regions) in RegionsOf)
        {
            var offset = TimeSpan.FromMinutes(UtcOffsetMinutes[country]);
            foreach (var region in regions)
            {
                // Polling day, 10:00-18:00 local.
                var from = new DateTimeOffset(2026, 11, 8, 10, 0, 0, offset);
                var count = f.Posts.Count(p => p.Region == region && p.CreatedAt >= from && p.CreatedAt < from.AddHours(8));
                var perMinute = count / 480.0;
                // Day after, 02:00-05:00 local: night.
                var night = new DateTimeOffset(2026, 11, 9, 2, 0, 0, offset);
                var nightPerMinute = f.Posts.Count(p => p.Region == region && p.CreatedAt >= night && p.CreatedAt < night.AddHours(3)) / 180.0;
                var day1 = new DateTimeOffset(2026, 11, 7, 14, 0, 0, offset);
                var day1PerMinute = f.Posts.Count(p => p.Region == region && p.CreatedAt >= day1 && p.CreatedAt < day1.AddHours(4)) / 240.0;
                output.WriteLine($"{country}/{region}: polling-day {perMinute:F1}/min, day-1 afternoon {day1PerMinute:F1}/min, night {nightPerMinute:F1}/min");
                Assert.True(perMinute >= 4.0, $"{region}: {perMinute:F2} posts/min in polling-day daytime");
                Assert.True(day1PerMinute >= 3.0, $"{region}: {day1PerMinute:F2} posts/min on day 1");
                Assert.True(nightPerMinute < perMinute / 2.5, $"{region}: night not quieter");
            }
        }
    }

    [Fact]
    public void Every_language_is_present_with_a_small_hateful_share()
    {
        foreach (var lang in new[] { "my", "si", "ta", "sw", "en" })
            Assert.True(f.Posts.Count(p => p.Lang == lang) > 2_000, $"too few posts in {lang}");
        var hateful = 0;
        for (var i = 0; i < f.Posts.Length; i++)
            if (f.Simulator.KindAt(i) is PostKind.Hate) hateful++;
        var share = hateful / (double)f.Posts.Length;
        output.WriteLine($"background hateful share {share:P2}");
        Assert.InRange(share, 0.01, 0.03);
    }

    [Fact]
    public void WriteJsonl_writes_one_line_per_post()
    {
        var sim = new Simulator(posts: 2_000, seed: 3);
        using var ms = new MemoryStream();
        Simulator.WriteJsonl(sim.Generate(), ms);
        var bytes = ms.ToArray();
        Assert.Equal((byte)'\n', bytes[^1]);
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        Assert.Equal(sim.Count + 1, lines.Length);
        Assert.Equal("", lines[^1]);
        var decoder = new PostDecoder();
        Assert.All(lines[..^1], l => Assert.True(decoder.TryDecode(Encoding.UTF8.GetBytes(l), out _, out _)));
        using var ms2 = new MemoryStream();
        GroundTruth.WriteJsonl(sim.Generate(), ms2);
        Assert.Equal(bytes, ms2.ToArray());
    }
}
