using EarlyWarning.Network.Coordination;
using EarlyWarning.Network.CoSharing;

namespace EarlyWarning.Network.Tests;

public class PairBoundTests
{
    /// <summary>
    /// Over twice the pair bound, the detector keeps the <c>MaxPairs</c> most recently active pairs: the pairs removed
    /// are the first in (last time, first account, second account) order. Checked against that order computed
    /// directly, with times drawn from a few values so that many pairs tie at the boundary time.
    /// </summary>
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 7)]
    [InlineData(3, 40)]
    public void Over_the_bound_the_least_recently_active_pairs_go_first_ties_in_ordinal_order(int seed, int maxPairs)
    {
        var o = new NetworkOptions { MaxPairs = maxPairs };
        var d = new CoordinationDetector(o);
        var rng = new Random(seed);
        var last = new Dictionary<(string, string), long>();
        var pruned = 0;
        // Enough steps that stale expiry entries pass the rebuild threshold (2 x pairs + 1,024) several times.
        for (var step = 0; step < Math.Max(40 * maxPairs, 4_000); step++)
        {
            var a = "acct" + rng.Next(3 * maxPairs);
            var b = "acct" + rng.Next(3 * maxPairs);
            if (a == b) continue;
            var key = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            var time = 1_000L * rng.Next(6); // few distinct times: many ties
            var before = d.PairCount;
            var expectPrune = !last.ContainsKey(key) && before == 2 * maxPairs;
            last[key] = Math.Max(last.GetValueOrDefault(key, long.MinValue), time);
            d.AddCoShare(CoShare.Of("k" + step, a, "p" + step, time, b, "q" + step, time));
            if (!expectPrune) continue;
            pruned++;
            var expected = last.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal)
                .ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).Skip(last.Count - maxPairs).Select(kv => kv.Key).ToHashSet();
            Assert.Equal(maxPairs, d.PairCount);
            Assert.True(expected.SetEquals(d.PairKeys), $"step {step}: kept pairs differ from the (time, a, b) order");
            foreach (var k in last.Keys.Where(k => !expected.Contains(k)).ToList()) last.Remove(k);
        }
        Assert.True(pruned >= 2, "the bound was never exceeded: the test checked nothing");
        // After all that bounding and rebuilding, expiry still finds exactly the pairs idle before the cutoff.
        var horizon = (long)o.CampaignHorizon.TotalMilliseconds;
        d.Detect(horizon + 3_000, []);
        // Pairs idle before the cutoff go; if more than the bound remain, the least recently active go too.
        var alive = last.Where(kv => kv.Value >= 3_000).OrderBy(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal)
            .ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        alive = alive.Skip(Math.Max(0, alive.Count - maxPairs)).ToList();
        Assert.NotEmpty(alive);
        Assert.True(alive.ToHashSet().SetEquals(d.PairKeys), "expiry after bounding kept or dropped the wrong pairs");
    }

    /// <summary>
    /// A pair becomes strong (a candidate-group edge) at <c>MinDistinctContents</c> distinct keys, and stops being one
    /// when it is removed, by expiry or by the bound alike.
    /// </summary>
    [Fact]
    public void Strong_pairs_leave_the_strong_set_when_they_expire_or_are_bounded_away()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(10), MaxPairs = 2, MinDistinctContents = 2 };
        var d = new CoordinationDetector(o);
        const long min = 60_000;
        void Share(string a, string b, string key, long t) => d.AddCoShare(CoShare.Of(key, a, "p" + a + key, t, b, "p" + b + key, t));
        Share("a", "b", "k1", 1 * min);
        Assert.Empty(d.StrongPairKeys);
        Share("a", "b", "k2", 2 * min);
        Share("c", "d", "k1", 3 * min);
        Share("c", "d", "k3", 8 * min);
        Share("e", "f", "k4", 9 * min); // weak
        Assert.Equal(new[] { ("a", "b"), ("c", "d") }, d.StrongPairKeys.Order().ToArray());
        d.Detect(13 * min, []); // cutoff 3 min: (a,b), last active at 2, expires
        Assert.Equal(new[] { ("c", "d"), ("e", "f") }, d.PairKeys.Order().ToArray());
        Assert.Equal(new[] { ("c", "d") }, d.StrongPairKeys.ToArray());
        // Over twice the bound (2): the least recently active go, strong (c,d) among them.
        Share("g", "h", "k5", 10 * min);
        Share("i", "j", "k6", 11 * min);
        Share("i", "j", "k7", 11 * min);
        Share("k", "l", "k8", 12 * min);
        Assert.Equal(new[] { ("i", "j"), ("k", "l") }, d.PairKeys.Order().ToArray());
        Assert.Equal(new[] { ("i", "j") }, d.StrongPairKeys.ToArray());
    }

    /// <summary>
    /// Pairs idle since before the horizon go at each detection, also a pair whose co-share came late (earlier in
    /// event time than co-shares already seen): it must not wait behind later ones.
    /// </summary>
    [Fact]
    public void Pairs_idle_past_the_horizon_are_pruned_late_co_shares_included()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(10) };
        var d = new CoordinationDetector(o);
        const long min = 60_000;
        void Share(string a, string b, long t) => d.AddCoShare(CoShare.Of("k" + a + b + t, a, "p" + a + t, t, b, "p" + b + t, t));
        Share("a", "b", 20 * min);
        Share("c", "d", 30 * min);
        Share("e", "f", 15 * min); // late
        Share("g", "h", 40 * min);
        Share("i", "j", 12 * min); // late again
        Assert.Equal(5, d.PairCount);
        d.Detect(26 * min, []); // cutoff 16 min: (e,f) at 15 and (i,j) at 12 go
        Assert.Equal(new[] { ("a", "b"), ("c", "d"), ("g", "h") }, d.PairKeys.Order().ToArray());
        Share("a", "b", 45 * min); // (a,b) moves on: its entry at 20 min is stale
        d.Detect(45 * min, []); // cutoff 35 min: (c,d) at 30 goes, (a,b) stays
        Assert.Equal(new[] { ("a", "b"), ("g", "h") }, d.PairKeys.Order().ToArray());
        d.Detect(56 * min, []); // cutoff 46 min
        Assert.Empty(d.PairKeys);
    }

    /// <summary>
    /// A pair the bound removes leaves its expiry entry behind, and its slot goes to the next new pair. When the stale
    /// entry comes due it must be skipped, not taken for the new pair's entry: that would stop the pruning at the stale
    /// entry's minute and keep pairs idle past the horizon.
    /// </summary>
    [Fact]
    public void A_stale_expiry_entry_is_not_taken_for_the_new_pair_in_its_slot()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(10), MaxPairs = 2 };
        var d = new CoordinationDetector(o);
        const long min = 60_000;
        void Share(string a, string b, long t) => d.AddCoShare(CoShare.Of("k" + a + b + t, a, "p" + a + t, t, b, "p" + b + t, t));
        Share("a", "b", 1 * min);
        Share("c", "d", 2 * min);
        Share("e", "f", 3 * min);
        d.Detect(4 * min, []); // three pairs over a bound of two: (a,b) goes, its entry at 1 min stays behind
        Assert.Equal(new[] { ("c", "d"), ("e", "f") }, d.PairKeys.Order().ToArray());
        Share("g", "h", 10 * min); // takes (a,b)'s slot
        d.Detect(15 * min, []); // cutoff 5 min: (c,d) and (e,f) go, (g,h) stays
        Assert.Equal(new[] { ("g", "h") }, d.PairKeys.ToArray());
    }

    /// <summary>A pair whose last co-share is exactly at the cutoff is still within the horizon; one millisecond later it goes.</summary>
    [Fact]
    public void A_pair_idle_exactly_to_the_cutoff_stays_and_goes_one_millisecond_later()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(10) };
        var d = new CoordinationDetector(o);
        const long min = 60_000;
        d.AddCoShare(CoShare.Of("k1", "a", "p1", 10 * min, "b", "p2", 10 * min));
        d.AddCoShare(CoShare.Of("k2", "a", "p3", 12 * min, "b", "p4", 12 * min)); // the entry at 10 min is stale now
        d.Detect(22 * min, []); // cutoff 12 min
        Assert.Equal(new[] { ("a", "b") }, d.PairKeys.ToArray());
        d.Detect((22 * min) + 1, []);
        Assert.Empty(d.PairKeys);
    }

    /// <summary>
    /// Cutoffs inside one event-minute split the pairs of that minute by their times; a late co-share, earlier than
    /// minutes already pruned, still expires at the next detection; a pair active since its entry stays.
    /// </summary>
    [Fact]
    public void A_cutoff_within_a_minute_splits_its_pairs_and_late_pairs_still_expire()
    {
        var o = new NetworkOptions { CampaignHorizon = TimeSpan.FromMinutes(10) };
        var d = new CoordinationDetector(o);
        const long min = 60_000, sec = 1_000;
        void Share(string a, string b, long t) => d.AddCoShare(CoShare.Of("k" + a + b + t, a, "p" + a + t, t, b, "p" + b + t, t));
        Share("a", "b", (10 * min) + (20 * sec));
        Share("c", "d", (10 * min) + (40 * sec));
        Share("e", "f", (10 * min) + (50 * sec));
        Share("e", "f", (12 * min) + (5 * sec)); // (e,f) active since its entry
        d.Detect((20 * min) + (30 * sec), []); // cutoff 10:30
        Assert.Equal(new[] { ("c", "d"), ("e", "f") }, d.PairKeys.Order().ToArray());
        Share("g", "h", 9 * min); // late: before everything pruned so far
        d.Detect((20 * min) + (45 * sec), []); // cutoff 10:45
        Assert.Equal(new[] { ("e", "f") }, d.PairKeys.Order().ToArray());
        d.Detect((22 * min) + (5 * sec), []); // cutoff 12:05: (e,f) last co-shared exactly then
        Assert.Equal(new[] { ("e", "f") }, d.PairKeys.Order().ToArray());
        d.Detect((22 * min) + (6 * sec), []);
        Assert.Empty(d.PairKeys);
    }

    /// <summary>
    /// A pair removed by the bound keeps a stale expiry entry; when the same two accounts co-share again later, that
    /// entry must not remove the new pair when it comes due, and the new pair expires by its own time.
    /// </summary>
    [Fact]
    public void A_pair_begun_again_after_the_bound_removed_it_expires_by_its_own_time()
    {
        var o = new NetworkOptions { MaxPairs = 1, CampaignHorizon = TimeSpan.FromMinutes(10) };
        var d = new CoordinationDetector(o);
        const long min = 60_000;
        void Share(string a, string b, long t) => d.AddCoShare(CoShare.Of("k" + a + b + t, a, "p" + a + t, t, b, "p" + b + t, t));
        Share("a", "b", 1 * min);
        Share("c", "d", 2 * min);
        Share("e", "f", 3 * min); // three pairs, over twice the bound: (a,b) and (c,d) go
        Assert.Equal(new[] { ("e", "f") }, d.PairKeys.ToArray());
        Share("a", "b", 8 * min); // begun again
        d.Detect(15 * min, []); // cutoff 5 min: the stale entry of the first (a,b) and (e,f) are due
        Assert.Equal(new[] { ("a", "b") }, d.PairKeys.ToArray());
        d.Detect((18 * min) + 1, []);
        Assert.Empty(d.PairKeys);
    }

    /// <summary>
    /// Pairs removed by the bound leave their expiry entries behind until due; those stale entries must not pile up
    /// (each keeps a removed pair alive): a stream of new pairs, far over the bound, within one horizon.
    /// </summary>
    [Fact]
    public void Entries_of_pairs_the_bound_removed_do_not_pile_up()
    {
        var o = new NetworkOptions { MaxPairs = 5 };
        var d = new CoordinationDetector(o);
        var mostStale = 0;
        for (var i = 0; i < 2_000; i++)
        {
            d.AddCoShare(CoShare.Of("k" + i, "a" + i, "p" + i, 1_000 + i, "b" + i, "q" + i, 1_000 + i));
            if (i % 7 == 0) d.Detect(1_000 + i, []); // the bound applied at detection as well
            Assert.True(d.ExpiryEntryCount <= d.PairCount + o.MaxPairs, $"{d.ExpiryEntryCount} expiry entries for {d.PairCount} pairs after {i + 1} co-shares");
            mostStale = Math.Max(mostStale, d.ExpiryEntryCount - d.PairCount);
        }
        Assert.InRange(d.PairCount, o.MaxPairs, 2 * o.MaxPairs);
        Assert.True(mostStale > 0, "the bound never left a stale entry: the test checks nothing");
    }

    /// <summary>
    /// Busy pairs and quiet ones: thousands of co-shares among a few busy pairs (each moving its pair's time on, their
    /// expiry entries put back when due) must not keep the quiet pairs, some of them late and out of time order, from
    /// expiring, and the busy ones must stay.
    /// </summary>
    [Fact]
    public void Busy_pairs_stay_while_quiet_pairs_expire_late_ones_included()
    {
        var o = new NetworkOptions();
        var d = new CoordinationDetector(o);
        var quiet = new List<(string, string)>();
        foreach (var t in new long[] { 500, 900, 200, 1_000, 100, 700, 300, 800, 400, 600 }) // out of time order
        {
            d.AddCoShare(CoShare.Of("q" + t, "quiet" + t, "p" + t, t, "zquiet" + t, "q" + t, t));
            quiet.Add(("quiet" + t, "zquiet" + t));
        }
        var busy = new HashSet<(string, string)>();
        for (var step = 0; step < 3_000; step++)
        {
            var (a, b) = ("busy" + (step % 5), "zbusy" + (step % 5));
            busy.Add((a, b));
            var t = 10_000L + step;
            d.AddCoShare(CoShare.Of("b" + step, a, "p" + step, t, b, "q" + step, t));
        }
        Assert.Equal(15, d.PairCount);
        d.Detect((long)o.CampaignHorizon.TotalMilliseconds + 5_000, []); // cutoff at 5 s: every quiet pair is idle
        Assert.True(busy.SetEquals(d.PairKeys), "quiet pairs did not expire (or busy ones went)");
    }
    /// <summary>
    /// The pair table: a pair is one entry whichever account comes first, survives the table's growth, and leaves by
    /// expiry from anywhere in its hash chain. With <paramref name="oneChain"/> every account gets the same hash, so all
    /// pairs share one chain; otherwise real hashes and enough pairs to grow the table several times.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Pairs_are_one_entry_in_either_order_through_growth_and_expiry(bool oneChain, int seed)
    {
        var o = new NetworkOptions { MaxPairs = 1_000_000 };
        var d = new CoordinationDetector(o);
        var rng = new Random(seed);
        var accounts = oneChain ? 120 : 400;
        var last = new Dictionary<(string, string), long>();
        var steps = oneChain ? 6_000 : 40_000;
        for (var step = 0; step < steps; step++)
        {
            var a = "acct" + rng.Next(accounts);
            var b = "acct" + rng.Next(accounts);
            if (a == b) continue;
            var key = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            var time = 60_000L * rng.Next(10);
            last[key] = Math.Max(last.GetValueOrDefault(key, long.MinValue), time);
            // Either order; the hashes travel with the co-share as the index gives them.
            var (ha, hb) = oneChain ? (7, 7) : (a.GetHashCode(), b.GetHashCode());
            d.AddCoShare(new CoShare("k" + step, a, ha, "p" + step, time, b, hb, "q" + step, time));
            if (step % 1_000 == 0) Assert.Equal(last.Count, d.PairCount);
        }
        Assert.True(last.Count > (oneChain ? 2_000 : 20_000), "too few pairs to exercise the table");
        Assert.Equal(last.Count, d.PairCount);
        Assert.True(last.Keys.ToHashSet().SetEquals(d.PairKeys));

        // Expire the pairs last active before minute 5: they sit all over the chains.
        var horizon = (long)o.CampaignHorizon.TotalMilliseconds;
        d.Detect(horizon + 300_000, []);
        var alive = last.Where(kv => kv.Value >= 300_000).Select(kv => kv.Key).ToHashSet();
        Assert.True(alive.Count > 0 && alive.Count < last.Count);
        Assert.Equal(alive.Count, d.PairCount);
        Assert.True(alive.SetEquals(d.PairKeys), "expiry removed the wrong pairs");

        // The survivors are still found (not duplicated) when they co-share again, in the other order.
        foreach (var (a, b) in alive.Take(200))
        {
            var (ha, hb) = oneChain ? (7, 7) : (a.GetHashCode(), b.GetHashCode());
            d.AddCoShare(new CoShare("again", b, hb, "x", horizon + 300_000, a, ha, "y", horizon + 300_000));
        }
        Assert.Equal(alive.Count, d.PairCount);
    }
}
