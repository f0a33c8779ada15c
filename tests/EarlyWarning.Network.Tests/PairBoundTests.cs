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
        for (var step = 0; step < 40 * maxPairs; step++)
        {
            var a = "acct" + rng.Next(3 * maxPairs);
            var b = "acct" + rng.Next(3 * maxPairs);
            if (a == b) continue;
            var key = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            var time = 1_000L * rng.Next(6); // few distinct times: many ties
            var before = d.PairCount;
            var expectPrune = !last.ContainsKey(key) && before == 2 * maxPairs;
            last[key] = Math.Max(last.GetValueOrDefault(key, long.MinValue), time);
            d.AddCoShare(new CoShare("k" + step, a, "p" + step, time, b, "q" + step, time));
            if (!expectPrune) continue;
            pruned++;
            var expected = last.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal)
                .ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).Skip(last.Count - maxPairs).Select(kv => kv.Key).ToHashSet();
            Assert.Equal(maxPairs, d.PairCount);
            Assert.True(expected.SetEquals(d.PairKeys), $"step {step}: kept pairs differ from the (time, a, b) order");
            foreach (var k in last.Keys.Where(k => !expected.Contains(k)).ToList()) last.Remove(k);
        }
        Assert.True(pruned >= 2, "the bound was never exceeded: the test checked nothing");
    }
}
