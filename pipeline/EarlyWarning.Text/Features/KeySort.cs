using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EarlyWarning.Text.Features;

/// <summary>
/// Sorts a post's feature keys (non-negative, below 2^bits) with an LSD radix sort. Comparison sorts of hashed keys
/// are bound by branch mispredictions; radix passes have none. A post has only about a hundred keys, so the digit
/// is kept small (three passes of 7 bits for the default 19-bit keys) and all three histograms are counted in one
/// read pass. Returns the span (keys or scratch) holding the result.
/// </summary>
internal static class KeySort
{
    public static Span<int> Sort(Span<int> keys, Span<int> scratch, int bits)
    {
        var n = keys.Length;
        if (n < 48)
        {
            keys.Sort();
            return keys;
        }
        if (bits > 24) return SortWide(keys, scratch, bits);
        var digit = (bits + 2) / 3;
        var radix = 1 << digit;
        var mask = radix - 1;
        Span<int> counts = stackalloc int[radix * 3];
        counts.Clear();
        ref var c0 = ref MemoryMarshal.GetReference(counts);
        ref var c1 = ref Unsafe.Add(ref c0, radix);
        ref var c2 = ref Unsafe.Add(ref c1, radix);
        ref var k0 = ref MemoryMarshal.GetReference(keys);
        for (var i = 0; i < n; i++)
        {
            var k = Unsafe.Add(ref k0, i);
            Unsafe.Add(ref c0, k & mask)++;
            Unsafe.Add(ref c1, (k >> digit) & mask)++;
            Unsafe.Add(ref c2, k >> (2 * digit))++;
        }
        int s0 = 0, s1 = 0, s2 = 0;
        for (var b = 0; b < radix; b++)
        {
            var x0 = Unsafe.Add(ref c0, b);
            var x1 = Unsafe.Add(ref c1, b);
            var x2 = Unsafe.Add(ref c2, b);
            Unsafe.Add(ref c0, b) = s0;
            Unsafe.Add(ref c1, b) = s1;
            Unsafe.Add(ref c2, b) = s2;
            s0 += x0;
            s1 += x1;
            s2 += x2;
        }
        ref var t0 = ref MemoryMarshal.GetReference(scratch[..n]);
        for (var i = 0; i < n; i++)
        {
            var k = Unsafe.Add(ref k0, i);
            Unsafe.Add(ref t0, Unsafe.Add(ref c0, k & mask)++) = k;
        }
        for (var i = 0; i < n; i++)
        {
            var k = Unsafe.Add(ref t0, i);
            Unsafe.Add(ref k0, Unsafe.Add(ref c1, (k >> digit) & mask)++) = k;
        }
        for (var i = 0; i < n; i++)
        {
            var k = Unsafe.Add(ref k0, i);
            Unsafe.Add(ref t0, Unsafe.Add(ref c2, k >> (2 * digit))++) = k;
        }
        return scratch[..n];
    }

    // Dimensions above 2^23: plain 8-bit passes.
    private static Span<int> SortWide(Span<int> keys, Span<int> scratch, int bits)
    {
        Span<int> counts = stackalloc int[256];
        var src = keys;
        var dst = scratch[..keys.Length];
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
