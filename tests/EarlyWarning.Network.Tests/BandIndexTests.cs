using EarlyWarning.Network.CoSharing;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Tests;

/// <summary>
/// The LSH band index against a direct model: a key's candidates are the latest items (up to the per-key cap) that
/// carry it, newest first. The ring may forget an item only once it is older than the keep time, so after filtering
/// by that time (as the caller does) the index and the model must agree exactly, through growth, overwrites and hash
/// slots shared by several keys.
/// </summary>
public sealed class BandIndexTests
{
    private sealed record Item(long Seq, long Time, ulong[] Keys, ulong[] Sig);

    [Theory]
    [InlineData(1, 4, 3)]
    [InlineData(2, 16, 64)]
    [InlineData(3, 1, 1)]
    public void Candidates_are_the_latest_items_of_a_key_within_the_keep_time(int seed, int bands, int perKey)
    {
        const long interval = 60_000;
        var rng = new Random(seed);
        var index = new BandIndex<Item>(bands, perKey, capacity: 4);
        var items = new List<Item>();
        // Few distinct keys, so keys recur within the interval and share hash slots; bursts grow the ring and quiet
        // stretches let it overwrite.
        var pool = Enumerable.Range(0, 40).Select(i => Hashing.Mix((ulong)i + (ulong)seed)).ToArray();
        var t = 0L;
        var latest = long.MinValue;
        var buffer = new long[perKey];
        var compared = 0;
        for (var i = 0; i < 6_000; i++)
        {
            // The rate doubles every 1,000 items (so the ring must grow just as its oldest item nears the keep time),
            // with now and then a pause longer than the interval (after which it may overwrite freely).
            var meanStep = 4_000 >> (i / 1_000);
            t += rng.Next(400) == 0 ? interval * 2 : rng.Next(2 * meanStep + 1);
            var time = t - rng.Next(3) * rng.Next(20_000); // some out of order
            latest = Math.Max(latest, time);
            var keys = Enumerable.Range(0, bands).Select(_ => pool[rng.Next(pool.Length)]).ToArray();
            // Signatures of growing length now and then, so the stored copies are widened as well as moved.
            var sig = Enumerable.Range(0, 1 + rng.Next(i / 100 + 8)).Select(_ => (ulong)rng.NextInt64()).ToArray();
            var item = new Item(i, time, keys, sig);
            var keepFrom = latest - interval;
            index.Add(item, time, keys, item.Sig, keepFrom);
            items.Add(item);
            Assert.Equal(i + 1, index.Count);
            // Nothing within the keep time has been overwritten (the ring holds the last Capacity items).
            var oldestHeld = index.Count - index.Capacity;
            for (var j = (int)Math.Max(0, oldestHeld - 2_000); j < oldestHeld; j++)
                Assert.True(items[j].Time < keepFrom, $"item {j} at {items[j].Time} was overwritten before {keepFrom}");

            for (var q = 0; q < 3; q++)
            {
                var key = pool[rng.Next(pool.Length)];
                var n = index.Candidates(key, buffer);
                var got = buffer.Take(n).Select(s => index.Item(s)).ToList();
                Assert.All(got, x => Assert.Contains(key, x.Keys));
                for (var c = 0; c < n; c++) Assert.Equal(index.Item(buffer[c]).Sig, index.Signature(buffer[c]).ToArray());
                Assert.Equal(got.Select(x => x.Seq).OrderDescending(), got.Select(x => x.Seq)); // newest first
                // One entry per band that carries the key (an item carrying it in two bands is listed twice, as a
                // per-key list of the item's bands would hold it; the caller's visit stamps look at it once).
                var expected = Enumerable.Reverse(items).SelectMany(x => x.Keys.Where(k => k == key).Select(_ => x)).Take(perKey).ToList();
                Assert.Equal(
                    expected.Where(x => x.Time >= keepFrom).Select(x => x.Seq),
                    got.Where(x => x.Time >= keepFrom).Select(x => x.Seq));
                // What the index returns is always a prefix of the model's list: nothing skipped, nothing from elsewhere.
                Assert.Equal(expected.Take(n).Select(x => x.Seq), got.Select(x => x.Seq));
                compared += n;
            }
        }
        Assert.True(index.Capacity > 4, "the ring never grew");
        Assert.True(index.Capacity < items.Count, "the ring never overwrote");
        Assert.True(compared > 5_000, $"only {compared} candidates compared");
    }

    [Fact]
    public void An_item_sharing_several_bands_is_visited_once_per_stamp()
    {
        var index = new BandIndex<string>(3, 8);
        index.Add("a", 0, [1UL, 2UL, 3UL], [5UL], 0);
        index.Add("b", 0, [1UL, 9UL, 3UL], [6UL, 7UL], 0);
        var found = new long[8];
        var visited = new List<string>();
        foreach (var key in new[] { 1UL, 2UL, 3UL })
        {
            var n = index.Candidates(key, found);
            for (var i = 0; i < n; i++)
                if (index.Visit(found[i], 7)) visited.Add(index.Item(found[i]));
        }
        Assert.Equal(["b", "a"], visited);
        Assert.True(index.Visit(0, 8)); // a new stamp visits again
        Assert.Equal([6UL, 7UL], index.Signature(1).ToArray());
        Assert.Equal([5UL], index.Signature(0).ToArray());
        Assert.Throws<ArgumentException>(() => index.Add("c", 0, [1UL], [], 0));
    }
    [Fact]
    public void A_bounded_index_drops_its_oldest_items_early_and_counts_them()
    {
        var index = new BandIndex<string>(2, perKey: 64, capacity: 4, maxCapacity: 16);
        for (var i = 0; i < 100; i++) index.Add("t" + i, 1_000, [7UL, (ulong)i + 100], [(ulong)i], keepFromMs: 0);
        Assert.Equal(16, index.Capacity);
        Assert.Equal(100 - 16, index.DroppedEarly);
        var found = new long[64];
        var n = index.Candidates(7UL, found);
        Assert.Equal(Enumerable.Range(84, 16).Reverse().Select(i => "t" + i), found.Take(n).Select(index.Item));
        Assert.Equal([99UL], index.Signature(found[0]).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BandIndex<string>(2, 1, capacity: 8, maxCapacity: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkEngine(new NetworkOptions { MaxRecentTexts = 3000 }));
    }
}
