using EarlyWarning.Network.Coordination;

namespace EarlyWarning.Network.Tests;

/// <summary>The campaign report's counting paths against their plain definitions.</summary>
public sealed class CampaignReportTests
{
    [Theory]
    [InlineData(1, 40, 40)]     // similar sizes: the merge pass
    [InlineData(2, 5, 400)]     // a small group against a large campaign: lookups
    [InlineData(3, 300, 20)]
    [InlineData(4, 0, 10)]
    [InlineData(5, 10, 0)]
    public void Shared_count_equals_the_members_of_the_list_the_set_holds(int seed, int listSize, int setSize)
    {
        var rng = new Random(seed);
        // Ids of mixed lengths and cases, so ordinal order is not length or culture order.
        string Id() => rng.Next(4) switch
        {
            0 => "a" + rng.Next(500),
            1 => "B" + rng.Next(500),
            2 => "acct_" + rng.Next(500),
            _ => "Z" + rng.Next(50) + "x",
        };
        for (var round = 0; round < 50; round++)
        {
            var set = new SortedSet<string>(StringComparer.Ordinal);
            while (set.Count < setSize) set.Add(Id());
            var distinct = new HashSet<string>(StringComparer.Ordinal);
            // Half the list from the set, half new ids.
            var fromSet = set.ToArray();
            while (distinct.Count < listSize)
                distinct.Add(fromSet.Length > 0 && rng.Next(2) == 0 ? fromSet[rng.Next(fromSet.Length)] : Id());
            var sorted = distinct.ToList();
            sorted.Sort(StringComparer.Ordinal);

            var expected = sorted.Count(set.Contains);

            Assert.Equal(expected, CoordinationDetector.SharedCount(sorted, set));
        }
    }

    [Fact]
    public void Top_terms_are_the_most_used_hashtags_ties_in_ordinal_order()
    {
        var rng = new Random(7);
        var tags = new[] { "#a", "#B", "#b", "#vote", "#Vote", "#x1", "#x10", "#x2", "#ä", "#z" };
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var round = 0; round < 200; round++)
        {
            var posts = new List<PostRecord>();
            var n = rng.Next(0, 12);
            for (var i = 0; i < n; i++)
            {
                var h = Enumerable.Range(0, rng.Next(0, 4)).Select(_ => tags[rng.Next(rng.Next(1, tags.Length + 1))]).ToArray();
                posts.Add(new PostRecord("p" + i, "u" + i, i, [], null, null, null, false, 0, h));
            }
            var k = rng.Next(1, 7);
            var expected = posts.SelectMany(p => p.Hashtags).GroupBy(h => h, StringComparer.Ordinal)
                .OrderByDescending(x => x.Count()).ThenBy(x => x.Key, StringComparer.Ordinal).Take(k).Select(x => x.Key).ToList();

            Assert.Equal(expected, CoordinationDetector.TopTerms(posts, k, counts));
        }
    }
}
