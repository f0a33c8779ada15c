using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Tests;

public sealed class SelectionTests
{
    /// <summary>Every rank of random arrays (few distinct values, all distinct, sorted, reversed) against a sort.</summary>
    [Theory]
    [InlineData(1, 1, 5)]
    [InlineData(2, 200, 3)]        // long runs of equal values
    [InlineData(3, 200, 1_000_000)]
    [InlineData(4, 57, 1)]         // all equal
    public void Nth_is_the_value_at_that_index_after_sorting(int seed, int n, int distinct)
    {
        var rng = new Random(seed);
        for (var shape = 0; shape < 3; shape++)
        {
            var values = Enumerable.Range(0, n).Select(_ => (long)rng.Next(distinct) - (distinct / 2)).ToArray();
            if (shape == 1) Array.Sort(values);
            if (shape == 2) Array.Sort(values, (x, y) => y.CompareTo(x));
            var sorted = values.ToArray();
            Array.Sort(sorted);
            for (var k = 0; k < n; k++)
            {
                var copy = values.ToArray();
                Assert.Equal(sorted[k], Selection.Nth(copy, k));
                // Only reordered: the same values remain.
                Array.Sort(copy);
                Assert.Equal(sorted, copy);
            }
        }
    }

    [Fact]
    public void Nth_rejects_a_rank_outside_the_span()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Nth(new long[3], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Nth(new long[3], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Nth([], 0));
    }
}
