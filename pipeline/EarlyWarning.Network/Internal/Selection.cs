namespace EarlyWarning.Network.Internal;

/// <summary>Order statistics without a full sort.</summary>
internal static class Selection
{
    /// <summary>
    /// The value that would be at index <paramref name="k"/> if <paramref name="values"/> were sorted ascending
    /// (quickselect: Hoare partitions around a median of three, expected linear time; runs of equal values, common
    /// among millisecond times, split evenly). Reorders the span.
    /// </summary>
    public static long Nth(Span<long> values, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, values.Length);
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            long a = values[lo], b = values[mid], c = values[hi];
            var pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i > j) break;
                (values[i], values[j]) = (values[j], values[i]);
                i++;
                j--;
            }
            // Now values[lo..j] <= pivot, values[i..hi] >= pivot, and anything between equals the pivot.
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return pivot;
        }
        return values[k];
    }
}
