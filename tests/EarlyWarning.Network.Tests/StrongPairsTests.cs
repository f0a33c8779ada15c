using EarlyWarning.Network.Coordination;

namespace EarlyWarning.Network.Tests;

/// <summary>
/// Strong pairs keep one vertex number per account that is in at least one strong pair: checked against a model
/// through random adds and removes (numbers freed when an account's last pair goes, and reused).
/// </summary>
public sealed class StrongPairsTests
{
    [Fact]
    public void Every_pair_names_its_accounts_and_each_account_has_one_number_while_it_is_in_a_pair()
    {
        var rng = new Random(11);
        var strong = new StrongPairs();
        var model = new HashSet<(string, string)>();
        var peakAccounts = 0;
        var freed = 0;
        var lastAccounts = new HashSet<string>();
        for (var step = 0; step < 20_000; step++)
        {
            // Few pairs per account (so accounts keep leaving and coming back), repeats and removals of absent pairs.
            var a = "acct" + rng.Next(300);
            var b = "acct" + rng.Next(300);
            if (a == b) continue;
            var key = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            if (model.Count > 0 && rng.Next(2) == 0) key = model.ElementAt(rng.Next(model.Count));
            if (rng.Next(model.Count > 150 ? 2 : 4) == 0) Assert.Equal(model.Remove(key), strong.Remove(key));
            else Assert.Equal(model.Add(key), strong.Add(key));

            if (step % 97 != 0) continue;
            Assert.Equal(model.Count, strong.Count);
            Assert.Equal(model.Order(), strong.Keys.Order());
            var accounts = model.SelectMany(p => new[] { p.Item1, p.Item2 }).Distinct().ToHashSet();
            freed += lastAccounts.Count(x => !accounts.Contains(x));
            lastAccounts = accounts;
            peakAccounts = Math.Max(peakAccounts, accounts.Count);
            var numberOf = new Dictionary<string, int>();
            foreach (var (pair, v) in strong.Keys.Zip(strong.Vertices))
            {
                Assert.Equal(pair.Item1, strong.Name(v.A));
                Assert.Equal(pair.Item2, strong.Name(v.B));
                Assert.Equal(v.A, numberOf.GetValueOrDefault(pair.Item1, v.A));
                Assert.Equal(v.B, numberOf.GetValueOrDefault(pair.Item2, v.B));
                numberOf[pair.Item1] = v.A;
                numberOf[pair.Item2] = v.B;
            }
            // Numbers are unique per account, and every number not in use is free.
            Assert.Equal(numberOf.Count, numberOf.Values.Distinct().Count());
            for (var v = 0; v < strong.VertexBound; v++)
                Assert.Equal(numberOf.ContainsValue(v), strong.Name(v) is not null);
            Assert.Equal(accounts.Count, numberOf.Count);
        }
        // Freed numbers are reused: the bound stays at the most accounts ever in pairs at once (checked every 97 steps).
        Assert.InRange(strong.VertexBound, peakAccounts, 300);
        Assert.True(freed > 100, $"accounts left the pairs only {freed} times");
    }
}
