using EarlyWarning.Network.CoSharing;

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
            index.Add(key, account, post, t, output);

            var expected = new List<CoShare>();
            foreach (var list in model.Values)
                if (list.Count > 0 && list.RemoveAll(e => e.Time < t - intervalMs) > 0 && list.Count == 0) emptied++;
            if (!model.TryGetValue(key, out var entries)) model[key] = entries = [];
            foreach (var e in entries)
                if (e.Account != account) expected.Add(new CoShare(key, e.Account, e.Post, e.Time, account, post, t));
            entries.Add((account, post, t));
            if (entries.Count > cap) entries.RemoveAt(0);

            Assert.Equal(expected, output);
            coShares += output.Count;
        }
        // The stream must actually produce co-shares and empty keys for the comparison to mean anything.
        Assert.True(coShares > 1_000, $"only {coShares} co-shares");
        Assert.True(emptied > 100, $"keys emptied only {emptied} times");
    }
}
