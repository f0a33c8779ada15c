namespace EarlyWarning.Text.Features;

/// <summary>
/// LSD radix sort of non-negative keys below 2^bits, 8 bits per pass: a post's few hundred feature keys sort in
/// a few linear passes instead of an O(n log n) comparison sort. Returns the span (keys or scratch) holding the result.
/// </summary>
internal static class RadixSort
{
    public static Span<int> Sort(Span<int> keys, Span<int> scratch, int bits)
    {
        if (keys.Length < 64)
        {
            keys.Sort();
            return keys;
        }
        Span<int> counts = stackalloc int[256];
        var src = keys;
        var dst = scratch;
        for (var shift = 0; shift < bits; shift += 8)
        {
            counts.Clear();
            foreach (var k in src) counts[(k >> shift) & 0xFF]++;
            var sum = 0;
            for (var b = 0; b < 256; b++)
            {
                var c = counts[b];
                counts[b] = sum;
                sum += c;
            }
            foreach (var k in src) dst[counts[(k >> shift) & 0xFF]++] = k;
            var t = src;
            src = dst;
            dst = t;
        }
        return src;
    }
}
