using EarlyWarning.Network.Coordination;

namespace EarlyWarning.Network.Tests;

/// <summary>
/// The synchrony count of the coordination null model, against the definition written out pair by pair: for every
/// key and every two of its posts by different accounts whose (permuted) times are within the interval, one pair,
/// one partner for each post's account, and both posts marked.
/// </summary>
public sealed class SynchronyCounterTests
{
    private const long Interval = 120_000;

    private static (long Pairs, long[] PerAccount, bool[] Synced) Reference(
        List<List<int>> keyLists, long[] times, int[] perm, int[] authors, int accounts)
    {
        long pairs = 0;
        var perAccount = new long[accounts];
        var synced = new bool[times.Length];
        foreach (var list in keyLists)
        {
            for (var x = 0; x < list.Count; x++)
            {
                for (var y = x + 1; y < list.Count; y++)
                {
                    int p = list[x], q = list[y];
                    if (authors[p] == authors[q] || Math.Abs(times[perm[p]] - times[perm[q]]) > Interval) continue;
                    pairs++;
                    perAccount[authors[p]]++;
                    perAccount[authors[q]]++;
                    synced[p] = synced[q] = true;
                }
            }
        }
        return (pairs, perAccount, synced);
    }

    [Fact]
    public void Counts_equal_the_pairwise_definition_for_random_groups_and_permutations()
    {
        var rng = new Random(20261207);
        // One counter for every group, as the detector uses it: groups grow and shrink, so stale buffers would show.
        var counter = new SynchronyCounter(Interval);
        var nonZero = 0;
        for (var g = 0; g < 300; g++)
        {
            var n = rng.Next(1, g % 7 == 0 ? 400 : 40);
            var accounts = rng.Next(1, 12);
            var authors = Enumerable.Range(0, n).Select(_ => rng.Next(accounts)).ToArray();
            // Times in stream order with jitter, many equal (second granularity, bursts) and some out of order.
            var spread = rng.Next(2) == 0 ? 600_000 : 6_000_000;
            var times = Enumerable.Range(0, n).Select(_ => 1_700_000_000_000L + (rng.Next(spread) / 1000 * 1000)).ToArray();
            var keys = rng.Next(1, 30);
            var byKey = new List<int>[keys];
            for (var k = 0; k < keys; k++) byKey[k] = [];
            for (var i = 0; i < n; i++)
            {
                // Each post carries one to three distinct keys, in post order as the detector builds them.
                var mine = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(keys)).Distinct();
                foreach (var k in mine) byKey[k].Add(i);
            }
            var keyLists = byKey.Where(l => l.Count > 1).ToList();

            // Times in an array longer than the group, as the detector's reused arrays are.
            var padded = times.Concat(Enumerable.Repeat(-1L, rng.Next(5))).ToArray();
            counter.Prepare(keyLists, n, padded, accounts);
            Assert.Equal(Enumerable.Range(0, n), counter.Permutation.ToArray());
            for (var round = 0; round < 6; round++)
            {
                if (round > 0)
                {
                    // Shuffled further each round, as the null model does.
                    var perm = counter.Permutation;
                    for (var i = n - 1; i > 0; i--)
                    {
                        var j = rng.Next(i + 1);
                        (perm[i], perm[j]) = (perm[j], perm[i]);
                    }
                }
                var expected = Reference(keyLists, times, counter.Permutation.ToArray(), authors, accounts);
                var perAccount = new long[accounts];
                var synced = round % 2 == 0 ? new bool[n] : null;
                var pairs = counter.Count(authors, perAccount, synced);
                Assert.Equal(expected.Pairs, pairs);
                Assert.Equal(expected.PerAccount, perAccount);
                if (synced is not null) Assert.Equal(expected.Synced, synced);
                if (pairs > 0) nonZero++;
            }
        }
        Assert.True(nonZero > 500, $"only {nonZero} counts found any pair: the generator hardly exercises the window");
    }

    [Fact]
    public void A_pair_sharing_two_keys_counts_once_per_key_and_same_account_posts_never_pair()
    {
        var counter = new SynchronyCounter(Interval);
        long[] times = [0, 60_000, 60_000, 500_000];
        int[] authors = [0, 1, 1, 2];
        List<List<int>> keyLists = [[0, 1, 2, 3], [0, 1]];
        counter.Prepare(keyLists, times.Length, times, 3);
        var perAccount = new long[3];
        var synced = new bool[4];
        // Key 1: (0,1) and (0,2) are within 120 s; (1,2) is one account; post 3 is 440 s from the nearest. Key 2: (0,1).
        Assert.Equal(3, counter.Count(authors, perAccount, synced));
        Assert.Equal([3L, 3L, 0L], perAccount);
        Assert.Equal([true, true, true, false], synced);
    }
}
