using EarlyWarning.Core.Posts;
using EarlyWarning.Network.CoSharing;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Tests;

public class CoShareIndexTests
{
    /// <summary>
    /// Content keys: each post co-shares with the earlier posts of other accounts under the same key that are still
    /// within the interval (at most the per-key cap, oldest dropped first). Checked against a direct model of that
    /// rule over a random stream in which keys empty and come back, so lists emptied by expiry are reused for other
    /// keys; a reused list that kept an entry, or an expiry that dropped a live one, gives a different co-share.
    /// </summary>
    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 64)]
    [InlineData(3, 1)]
    public void Content_key_co_shares_match_the_interval_rule_while_lists_are_reused(int seed, int cap)
    {
        var o = new NetworkOptions { CoShareInterval = TimeSpan.FromSeconds(60), MaxPostsPerContent = cap };
        var intervalMs = 60_000L;
        var index = new CoShareIndex(o);
        var model = new Dictionary<string, List<(string Account, string Post, long Time)>>();
        var rng = new Random(seed);
        var t = 0L;
        var output = new List<CoShare>();
        var coShares = 0;
        var emptied = 0;
        for (var i = 0; i < 20_000; i++)
        {
            // Mostly small steps; now and then a gap longer than the interval, which empties every key.
            t += rng.Next(100) == 0 ? intervalMs + rng.Next(5_000) : rng.Next(3_000);
            var key = "u:" + rng.Next(30);
            var account = "acct" + rng.Next(12);
            var post = "p" + i;

            output.Clear();
            index.Add(key, account, account.GetHashCode(), post, t, output);

            var expected = new List<CoShare>();
            foreach (var list in model.Values)
                if (list.Count > 0 && list.RemoveAll(e => e.Time < t - intervalMs) > 0 && list.Count == 0) emptied++;
            if (!model.TryGetValue(key, out var entries)) model[key] = entries = [];
            foreach (var e in entries)
                if (e.Account != account) expected.Add(CoShare.Of(key, e.Account, e.Post, e.Time, account, post, t));
            entries.Add((account, post, t));
            if (entries.Count > cap) entries.RemoveAt(0);

            Assert.Equal(expected, output);
            coShares += output.Count;
        }
        // The stream must actually produce co-shares and empty keys for the comparison to mean anything.
        Assert.True(coShares > 1_000, $"only {coShares} co-shares");
        Assert.True(emptied > 100, $"keys emptied only {emptied} times");
    }
    /// <summary>
    /// Text keys: a text joins the cluster of its most similar earlier text (equal slots of the MinHash signature,
    /// ties to the earliest) among the candidates, if that is at least the threshold; otherwise it starts a cluster.
    /// Candidates are, band by band, the latest texts (up to the per-key cap) sharing the band's key, within the
    /// interval. Checked against that rule written out directly, over texts paraphrased from a few originals.
    /// </summary>
    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 3)]
    public void Text_keys_join_the_most_similar_recent_candidate_of_a_shared_band(int seed, int cap)
    {
        const int bands = 16, rows = 4;
        var o = new NetworkOptions { CoShareInterval = TimeSpan.FromSeconds(60), MaxPostsPerContent = cap, LshBands = bands, LshRows = rows };
        const long intervalMs = 60_000;
        var index = new CoShareIndex(o);
        var rng = new Random(seed);
        var originals = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, bands * rows).Select(_ => (ulong)rng.NextInt64()).ToArray()).ToArray();
        var texts = new List<(long Time, ulong[] Sig, ulong[] Bands, int Cluster)>();
        var nextCluster = 0;
        var first = 0;
        var t = 0L;
        int joined = 0, started = 0;
        for (var i = 0; i < 3_000; i++)
        {
            // Steps of whole quarter-seconds (equal times, so ties between equally similar texts are common), a burst
            // of 1,500 texts in about 30 s (more than the band index first holds), and now and then a long pause.
            t += rng.Next(80) == 0 ? 2 * intervalMs : i is >= 1_000 and < 2_500 ? rng.Next(3) * 20 : rng.Next(3) * 250;
            // A paraphrase: some slots of one original replaced (none to most of them).
            var sig = (ulong[])originals[rng.Next(originals.Length)].Clone();
            var changed = rng.Next(3) == 0 ? rng.Next(sig.Length) : rng.Next(24);
            for (var c = 0; c < changed; c++) sig[rng.Next(sig.Length)] = (ulong)rng.NextInt64();
            var bandKeys = new ulong[bands];
            for (var b = 0; b < bands; b++)
            {
                var h = Hashing.Mix((ulong)b + 0x51A7);
                for (var r = 0; r < rows; r++) h = Hashing.Mix(h ^ sig[(b * rows) + r]);
                bandKeys[b] = h;
            }

            while (first < texts.Count && t - texts[first].Time > intervalMs) first++;
            (long Time, ulong[] Sig, ulong[] Bands, int Cluster)? best = null;
            var bestSim = -1.0;
            var seen = new HashSet<int>();
            for (var b = 0; b < bands; b++)
            {
                // The band key's latest texts, one entry per band of theirs that carries it, oldest of them first.
                // (Times only grow here, so texts before the interval come after every text within it in this order,
                // and the scan may start at the first text within it.)
                var latest = Enumerable.Range(first, texts.Count - first).Reverse()
                    .SelectMany(j => texts[j].Bands.Where(k => k == bandKeys[b]).Select(_ => j)).Take(cap).Reverse();
                foreach (var j in latest)
                {
                    var c = texts[j];
                    if (t - c.Time > intervalMs || !seen.Add(j)) continue;
                    var sim = CoShareIndex.Similarity(sig, c.Sig);
                    if (sim > bestSim || (sim == bestSim && best is not null && c.Time < best.Value.Time))
                    {
                        bestSim = sim;
                        best = c;
                    }
                }
            }
            var cluster = best is not null && bestSim >= o.NearDuplicateJaccard ? best.Value.Cluster : nextCluster++;
            if (best is not null && bestSim >= o.NearDuplicateJaccard) joined++;
            else started++;
            texts.Add((t, sig, bandKeys, cluster));

            Assert.Equal("t:" + cluster.ToString(System.Globalization.CultureInfo.InvariantCulture), index.TextKey("a" + rng.Next(9), "p" + i, t, sig));
        }
        Assert.True(joined > 500 && started > 100, $"joined {joined}, started {started}: the stream exercises too little");
        // A signature of identical slots (no tokens) or one too short for the bands is no text key.
        Assert.Null(index.TextKey("a", "x", t, Enumerable.Repeat(7UL, bands * rows).ToArray()));
        Assert.Null(index.TextKey("a", "y", t, new ulong[bands * rows - 1]));
        Assert.Equal(2, index.SignaturesRejected);
    }
    [Fact]
    public void Equally_similar_texts_of_one_time_go_to_the_first_indexed_and_a_burst_does_not_push_out_recent_texts()
    {
        var o = new NetworkOptions { CoShareInterval = TimeSpan.FromSeconds(60) };
        var index = new CoShareIndex(o);
        var rng = new Random(9);
        ulong[] Random64() => Enumerable.Range(0, 64).Select(_ => (ulong)rng.NextInt64()).ToArray();
        // X and Y share slots 0-15 (16/64: different clusters); Q shares slots 0-39 with X and 0-15 and 40-63 with Y
        // (40/64 each). X and Y have the same time, so the tie goes to the one indexed first.
        var x = Random64();
        var y = Random64();
        Array.Copy(x, y, 16);
        var q = (ulong[])x.Clone();
        Array.Copy(y, 40, q, 40, 24);
        Assert.Equal("t:0", index.TextKey("a1", "x", 1_000, x));
        Assert.Equal("t:1", index.TextKey("a2", "y", 1_000, y));
        Assert.Equal("t:0", index.TextKey("a3", "q", 2_000, q));

        // A text, then 3,000 unrelated texts within 30 s, then a copy of the first: still within the interval, so it
        // joins the first one's cluster however many texts came in between.
        var first = Random64();
        var cluster = index.TextKey("b", "first", 10_000, first);
        for (var i = 0; i < 3_000; i++) index.TextKey("c" + (i % 50), "f" + i, 10_000 + (i * 10), Random64());
        Assert.Equal(cluster, index.TextKey("d", "copy", 40_000, (ulong[])first.Clone()));
        Assert.True(index.BandCapacity >= 3_000, $"band index holds {index.BandCapacity} texts");
    }
}

/// <summary>Content keys from URLs and media hashes: trimmed, hashes lower-cased, one string per key while it is indexed.</summary>
public class ContentKeyTests
{
    [Fact]
    public void Urls_and_media_hashes_that_differ_only_in_spacing_or_case_are_one_content_key()
    {
        var e = new NetworkEngine(new NetworkOptions { CoShareInterval = TimeSpan.FromSeconds(120) });
        e.Observe(Posts.Make("p1", "a", Posts.T0, urls: [" https://example.org/a "]));
        e.Observe(Posts.Make("p2", "b", Posts.T0.AddSeconds(5), urls: ["https://example.org/a"]));
        Assert.Equal(1, e.Stats.CoShares);
        e.Observe(Posts.Make("p3", "c", Posts.T0.AddSeconds(10), media: [new MediaItem("image", null, "ABCDEF")]));
        e.Observe(Posts.Make("p4", "d", Posts.T0.AddSeconds(15), media: [new MediaItem("image", null, " abcdef")]));
        Assert.Equal(2, e.Stats.CoShares);
        // A different URL and a URL that is only spaces share nothing (the latter is refused as a bad field).
        e.Observe(Posts.Make("p5", "e", Posts.T0.AddSeconds(20), urls: ["https://example.org/b", "   "]));
        Assert.Equal(2, e.Stats.CoShares);
        Assert.True(e.Stats.Rejected.GetValueOrDefault("bad_field:urls") >= 1);
    }

    [Fact]
    public void The_index_hands_back_its_own_string_for_a_key_it_holds()
    {
        var index = new CoShareIndex(new NetworkOptions());
        var output = new List<CoShare>();
        var key = new string("u:https://example.org/a".AsSpan());
        index.Add(key, "a", "a".GetHashCode(), "p1", 0, output);
        Assert.Same(key, index.Intern("u:https://example.org/a".AsSpan()));
        var other = index.Intern("u:https://example.org/b".AsSpan());
        Assert.Equal("u:https://example.org/b", other);
        Assert.NotSame(other, index.Intern("u:https://example.org/b".AsSpan())); // not held: a new string each time
    }
}
