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

    private static ulong[] RandomWords(Random rng) => [(ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63), (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63),
        (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63), (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63)];

    private static string WordsHex(ReadOnlySpan<ulong> w) => string.Concat(w.ToArray().Select(x => x.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Flips exactly <paramref name="d"/> distinct bits (bit 0 = most significant of the 256).</summary>
    private static ulong[] FlipExactly(ulong[] w, int d, Random rng)
    {
        var r = (ulong[])w.Clone();
        foreach (var b in Enumerable.Range(0, 256).OrderBy(_ => rng.Next()).Take(d)) r[b / 64] ^= 1UL << (63 - (b % 64));
        return r;
    }

    /// <summary>
    /// Flips d bits spread so every 16-bit chunk of the multi-index differs in 2 bits where it can (d = 31: fifteen chunks
    /// with 2, one with 1): the hardest case for the pigeonhole, where exactly one chunk is within radius 1.
    /// </summary>
    private static ulong[] FlipSpread(ulong[] w, int d, Random rng)
    {
        var r = (ulong[])w.Clone();
        var chunks = Enumerable.Range(0, 16).OrderBy(_ => rng.Next()).ToArray();
        var flips = new List<int>();
        for (var round = 0; flips.Count < d; round++)
            foreach (var c in chunks)
            {
                if (flips.Count == d) break;
                int bit;
                do bit = (c * 16) + rng.Next(16); while (flips.Contains(bit));
                flips.Add(bit);
            }
        foreach (var b in flips) r[b / 64] ^= 1UL << (63 - (b % 64));
        return r;
    }

    private static int Distance(ulong[] a, ulong[] b) =>
        BitOperations.PopCount(a[0] ^ b[0]) + BitOperations.PopCount(a[1] ^ b[1]) + BitOperations.PopCount(a[2] ^ b[2]) + BitOperations.PopCount(a[3] ^ b[3]);

    /// <summary>
    /// 200k listed hashes; for every distance 0..40, near-duplicates with random flips and with flips spread 2 per chunk.
    /// Every path (batch and one at a time, AVX-512 and scalar scan) must return exactly the brute-force answer: every
    /// entry within 31, nothing at 32 or more.
    /// </summary>
    [Fact]
    public void Pdq_recall_is_exhaustive_at_every_distance_on_every_path()
    {
        var rng = new Random(2026_12_06);
        var m = new HashListMatcher();
        m.Configure(new HashListConfig("l", HashType.Pdq, MaxDistance: 31));
        var entries = new ulong[200_000][];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = RandomWords(rng);
            Assert.Null(m.Add(WordsHex(entries[i]), "l", "e" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var queries = new List<(ulong[] Q, int Source, int D)>();
        for (var d = 0; d <= 40; d++)
            for (var k = 0; k < 12; k++)
            {
                var src = rng.Next(entries.Length);
                queries.Add((k % 2 == 0 ? FlipExactly(entries[src], d, rng) : FlipSpread(entries[src], d, rng), src, d));
            }
        for (var k = 0; k < 100; k++) queries.Add((RandomWords(rng), -1, -1));
        foreach (var (q, src, d) in queries)
            if (src >= 0) Assert.Equal(d, Distance(q, entries[src]));
        var hex = queries.Select(x => WordsHex(x.Q)).ToList();

        // Brute force reference.
        var expected = new List<string>[queries.Count];
        for (var k = 0; k < queries.Count; k++)
        {
            expected[k] = [];
            for (var i = 0; i < entries.Length; i++)
            {
                var dist = Distance(queries[k].Q, entries[i]);
                if (dist <= 31) expected[k].Add($"e{i}:{dist}");
            }
        }

        var paths = new List<(string Name, PdqLookup[] Results)>();
        foreach (var simd in new[] { true, false })
        {
            m.PdqSimd = simd;
            m.PdqBatchMinimum = 0;
            paths.Add(($"batch simd={simd}", m.MatchPdqMany(hex)));
            m.PdqBatchMinimum = int.MaxValue;
            paths.Add(($"many simd={simd}", m.MatchPdqMany(hex)));
            var single = new PdqLookup[hex.Count];
            for (var k = 0; k < hex.Count; k++)
            {
                var buffer = new List<HashMatch>();
                Assert.True(m.MatchPdq(hex[k], buffer));
                single[k] = new PdqLookup(true, buffer);
            }
            paths.Add(($"single simd={simd}", single));
        }
        foreach (var (name, results) in paths)
        {
            var found = 0;
            for (var k = 0; k < queries.Count; k++)
            {
                Assert.True(results[k].Valid, name);
                Assert.Equal(expected[k], results[k].Matches.Select(x => $"{x.Label}:{x.Distance}"));
                var (_, src, d) = queries[k];
                if (src < 0) continue;
                var hit = results[k].Matches.Any(x => x.Label == $"e{src}" && x.Distance == d);
                Assert.True(hit == (d <= 31), $"{name}: planted at d = {d}, found = {hit}");
                if (hit) found++;
            }
            Assert.Equal(32 * 12, found);
        }
    }

    /// <summary>The AVX-512 scan and the scalar one give identical results, including lists with different thresholds and a wider radius.</summary>
    [Fact]
    public void Pdq_simd_and_scalar_scans_agree()
    {
        var rng = new Random(77);
        var m = new HashListMatcher();
        m.Configure(new HashListConfig("a", HashType.Pdq, MaxDistance: 31));
        m.Configure(new HashListConfig("b", HashType.Pdq, MaxDistance: 45));
        var entries = new List<ulong[]>();
        for (var i = 0; i < 60_000; i++)
        {
            // Families of near-duplicates so queries match several entries at once.
            var w = i % 20 is > 0 and < 4 ? FlipExactly(entries[i - (i % 20)], rng.Next(1, 40), rng) : RandomWords(rng);
            entries.Add(w);
            Assert.Null(m.Add(WordsHex(w), i % 2 == 0 ? "a" : "b", "e" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        var hex = Enumerable.Range(0, 600).Select(k => WordsHex(k % 3 == 2 ? RandomWords(rng) : FlipExactly(entries[rng.Next(entries.Count)], k % 50, rng))).ToList();
        string Render(PdqLookup[] r) => string.Join('\n', r.Select(x => string.Join(',', x.Matches.Select(y => $"{y.List}:{y.Label}:{y.Distance}"))));
        m.PdqSimd = false;
        m.PdqBatchMinimum = int.MaxValue;
        var reference = Render(m.MatchPdqMany(hex));
        Assert.Contains("b:", reference, StringComparison.Ordinal); // the radius-2 list (45 / 16 chunks) matched something
        m.PdqBatchMinimum = 0;
        Assert.Equal(reference, Render(m.MatchPdqMany(hex)));
        m.PdqSimd = true;
        Assert.Equal(reference, Render(m.MatchPdqMany(hex)));
        m.PdqBatchMinimum = int.MaxValue;
        Assert.Equal(reference, Render(m.MatchPdqMany(hex)));
    }
}
