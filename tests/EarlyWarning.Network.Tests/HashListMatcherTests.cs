using System.Numerics;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Network.Matching;

namespace EarlyWarning.Network.Tests;

public sealed class HashListMatcherTests
{
    private static string RandomPdq(Random rng)
    {
        var b = new byte[32];
        rng.NextBytes(b);
        return Convert.ToHexStringLower(b);
    }

    /// <summary>Flips <paramref name="bits"/> distinct random bits of a 256-bit hex hash.</summary>
    private static string Flip(string hex, int bits, Random rng)
    {
        var b = Convert.FromHexString(hex);
        foreach (var i in Enumerable.Range(0, 256).OrderBy(_ => rng.Next()).Take(bits)) b[i / 8] ^= (byte)(1 << (i % 8));
        return Convert.ToHexStringLower(b);
    }

    private static int Distance(string a, string b)
    {
        var x = Convert.FromHexString(a);
        var y = Convert.FromHexString(b);
        return x.Zip(y, (p, q) => BitOperations.PopCount((uint)(p ^ q))).Sum();
    }

    [Fact]
    public void Csv_loads_good_rows_and_reports_bad_ones()
    {
        var m = new HashListMatcher();
        m.Configure(new HashListConfig("gifct-pdq", HashType.Pdq, MaxDistance: 31, Version: "2026-11"));
        var pdq = new string('a', 64);
        var csv = $"""
            hash,list,label
            0123456789abcdef0123456789abcdef,known-md5,violent
            {pdq},gifct-pdq,terrorist
            {new string('b', 64)},unconfigured,whatever
            sha256:{new string('c', 64)},sha-list,graphic
            xyz,known-md5,bad
            0123,known-md5,short
            onlyhash
            """;
        var loaded = m.LoadCsv(new StringReader(csv));
        Assert.Equal(3, loaded);
        Assert.Equal(
            [new HashListRejection(4, "ambiguous_hash_type"), new(6, "bad_field:hash"), new(7, "bad_field:hash_length"), new(8, "missing_field:list")],
            m.Rejections);
        var matches = new List<HashMatch>();
        m.MatchExact("0123456789ABCDEF0123456789ABCDEF", HashType.Md5, matches);
        m.MatchExact(new string('c', 64), HashType.Sha256, matches);
        Assert.True(m.MatchPdq(pdq, matches));
        Assert.Equal(["known-md5:violent:0", "sha-list:graphic:0", "gifct-pdq:terrorist:0"], matches.Select(x => $"{x.List}:{x.Label}:{x.Distance}"));
        Assert.Equal("2026-11", matches[2].ListVersion);
        Assert.False(m.MatchPdq("not-hex", matches));
    }

    [Fact]
    public void Pdq_matches_exactly_the_entries_within_each_lists_distance()
    {
        var rng = new Random(5);
        var m = new HashListMatcher();
        m.Configure(new HashListConfig("wide", HashType.Pdq, MaxDistance: 31));
        m.Configure(new HashListConfig("narrow", HashType.Pdq, MaxDistance: 10));
        var entries = Enumerable.Range(0, 5000).Select(_ => RandomPdq(rng)).ToList();
        for (var i = 0; i < entries.Count; i++) Assert.Null(m.Add(entries[i], i % 2 == 0 ? "wide" : "narrow", "l" + i));

        // Planted near-duplicates at known distances: every one within the list's threshold is found.
        var planted = new List<(string Query, int Entry, int Dist)>();
        foreach (var d in new[] { 0, 1, 5, 10, 11, 16, 20, 31, 32, 40 })
            for (var k = 0; k < 10; k++)
            {
                var idx = rng.Next(entries.Count);
                planted.Add((Flip(entries[idx], d, rng), idx, d));
            }
        var entryBytes = entries.Select(Convert.FromHexString).ToList();
        var found = 0;
        var expectedFound = 0;
        foreach (var (q, idx, d) in planted)
        {
            var matches = new List<HashMatch>();
            Assert.True(m.MatchPdq(q, matches));
            var threshold = idx % 2 == 0 ? 31 : 10;
            var shouldMatch = d <= threshold;
            if (shouldMatch) expectedFound++;
            var hit = matches.Any(x => x.EntryHash == entries[idx]);
            Assert.Equal(shouldMatch, hit);
            if (hit) found++;
            // No false positives: every reported match really is within its list's distance (brute force check).
            foreach (var x in matches)
            {
                Assert.Equal(Distance(q, x.EntryHash), x.Distance);
                Assert.True(x.Distance <= (x.List == "wide" ? 31 : 10));
            }
            var qb = Convert.FromHexString(q);
            var brute = 0;
            for (var i = 0; i < entryBytes.Count; i++)
            {
                var dist = 0;
                for (var k = 0; k < 32; k++) dist += BitOperations.PopCount((uint)(qb[k] ^ entryBytes[i][k]));
                if (dist <= (i % 2 == 0 ? 31 : 10)) brute++;
            }
            Assert.Equal(brute, matches.Count);
        }
        Assert.Equal(expectedFound, found);
    }

    [Fact]
    public void Disabled_lists_never_match()
    {
        var m = new HashListMatcher();
        m.Add("md5:0123456789abcdef0123456789abcdef", "old", "x");
        m.Configure(new HashListConfig("old", HashType.Md5, Enabled: false));
        var matches = new List<HashMatch>();
        m.MatchExact("0123456789abcdef0123456789abcdef", HashType.Md5, matches);
        Assert.Empty(matches);
    }

    [Fact]
    public void Engine_raises_known_content_match_for_a_post_with_listed_media()
    {
        var rng = new Random(8);
        var listed = RandomPdq(rng);
        var m = new HashListMatcher();
        m.Configure(new HashListConfig("tci", HashType.Pdq, MaxDistance: 31, Version: "v3"));
        m.Add(listed, "tci", "violent_attack");
        var e = new NetworkEngine(new NetworkOptions { HashLists = m });
        e.Observe(Posts.Make("ok", "a", Posts.T0, media: [new MediaItem("image", RandomPdq(rng), null)]));
        e.Observe(Posts.Make("hit", "b", Posts.T0.AddSeconds(1), media: [new MediaItem("image", Flip(listed, 12, rng), null)],
            country: "KE", region: "Mombasa", target: "luo", followers: 900));
        e.Observe(Posts.Make("bad", "c", Posts.T0.AddSeconds(2), media: [new MediaItem("image", "zz", null)]));
        var signals = new List<Signal>();
        e.DrainSignals(signals);
        var s = Assert.Single(signals);
        Assert.Equal(AlertKinds.KnownContentMatch, s.Kind);
        Assert.Equal(new Scope("KE", "Mombasa", "luo"), s.Scope);
        Assert.Equal(["hit"], s.Evidence.PostIds);
        Assert.Equal(["b"], s.Evidence.Accounts);
        Assert.Equal(["tci@v3:violent_attack"], s.Evidence.TopTerms);
        Assert.Equal(900, s.Reach);
        Assert.InRange(s.Score, 0.5, 0.7);
        Assert.Equal(12, Assert.Single(e.RecentMatches).Match.Distance);
        Assert.Equal(1, e.Stats.Rejected["bad_field:media.pdq"]);
    }
}
