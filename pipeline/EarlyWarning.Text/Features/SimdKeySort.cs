using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EarlyWarning.Text.Features;

/// <summary>
/// Sorts a post's feature keys with AVX2 min/max sorting networks: no data-dependent branch and no scattered memory
/// write, where a radix sort of a hundred keys pays for its counter updates and a comparison sort for its
/// mispredictions. Keys are padded to a power of two (at least 64) with <see cref="int.MaxValue"/>; each block of 64 is
/// sorted in registers (a 19-comparator network down the columns of 8 vectors, a transpose, then bitonic merges of
/// 1, 2 and 4 vectors), and the blocks are combined by bitonic merges whose last three levels again run in registers.
/// </summary>
internal static class SimdKeySort
{
    /// <summary>Most keys sorted here (a longer post uses the radix sort).</summary>
    public const int MaxKeys = 1024;

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Room <see cref="Sort"/> needs for <paramref name="n"/> keys: the next power of two, at least 64.</summary>
    public static int PaddedLength(int n)
    {
        var m = 64;
        while (m < n) m <<= 1;
        return m;
    }

    /// <summary>
    /// Sorts the first <paramref name="n"/> (at most <see cref="MaxKeys"/>) values of <paramref name="buffer"/> in place,
    /// ascending; the buffer must hold <see cref="PaddedLength"/>(n) values (the rest is overwritten). Call only when
    /// <see cref="IsSupported"/>.
    /// </summary>
    public static void Sort(Span<int> buffer, int n)
    {
        if ((uint)n > MaxKeys) throw new ArgumentOutOfRangeException(nameof(n));
        var m = PaddedLength(n);
        var buf = buffer[..m];
        buf[n..].Fill(int.MaxValue);
        ref var v = ref Unsafe.As<int, Vector256<int>>(ref MemoryMarshal.GetReference(buf));
        var vectors = m >> 3;
        for (var blk = 0; blk < vectors; blk += 8) SortBlock(ref Unsafe.Add(ref v, blk));
        for (var run = 8; run < vectors; run <<= 1)
            for (var start = 0; start < vectors; start += 2 * run)
                MergeRuns(ref Unsafe.Add(ref v, start), run);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cmp(ref Vector256<int> a, ref Vector256<int> b)
    {
        var lo = Avx2.Min(a, b);
        b = Avx2.Max(a, b);
        a = lo;
    }

    // 64 keys (8 vectors) sorted in registers: columns sorted by a 19-comparator network and transposed so each vector
    // holds one sorted column, then bitonic merges into runs of 2, 4 and 8 vectors.
    private static void SortBlock(ref Vector256<int> p)
    {
        var r0 = p; var r1 = Unsafe.Add(ref p, 1); var r2 = Unsafe.Add(ref p, 2); var r3 = Unsafe.Add(ref p, 3);
        var r4 = Unsafe.Add(ref p, 4); var r5 = Unsafe.Add(ref p, 5); var r6 = Unsafe.Add(ref p, 6); var r7 = Unsafe.Add(ref p, 7);
        Cmp(ref r0, ref r2); Cmp(ref r1, ref r3); Cmp(ref r4, ref r6); Cmp(ref r5, ref r7);
        Cmp(ref r0, ref r4); Cmp(ref r1, ref r5); Cmp(ref r2, ref r6); Cmp(ref r3, ref r7);
        Cmp(ref r0, ref r1); Cmp(ref r2, ref r3); Cmp(ref r4, ref r5); Cmp(ref r6, ref r7);
        Cmp(ref r2, ref r4); Cmp(ref r3, ref r5);
        Cmp(ref r1, ref r4); Cmp(ref r3, ref r6);
        Cmp(ref r1, ref r2); Cmp(ref r3, ref r4); Cmp(ref r5, ref r6);
        var t0 = Avx2.UnpackLow(r0, r1); var t1 = Avx2.UnpackHigh(r0, r1);
        var t2 = Avx2.UnpackLow(r2, r3); var t3 = Avx2.UnpackHigh(r2, r3);
        var t4 = Avx2.UnpackLow(r4, r5); var t5 = Avx2.UnpackHigh(r4, r5);
        var t6 = Avx2.UnpackLow(r6, r7); var t7 = Avx2.UnpackHigh(r6, r7);
        var u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32();
        var u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        var c0 = Avx2.Permute2x128(u0, u4, 0x20);
        var c4 = Avx2.Permute2x128(u0, u4, 0x31);
        var c1 = Avx2.Permute2x128(u1, u5, 0x20);
        var c5 = Avx2.Permute2x128(u1, u5, 0x31);
        var c2 = Avx2.Permute2x128(u2, u6, 0x20);
        var c6 = Avx2.Permute2x128(u2, u6, 0x31);
        var c3 = Avx2.Permute2x128(u3, u7, 0x20);
        var c7 = Avx2.Permute2x128(u3, u7, 0x31);
        var rev = ReverseIndex;
        // Runs of 1 vector -> 2: the second reversed, so each pair is bitonic.
        c1 = Avx2.PermuteVar8x32(c1, rev); Cmp(ref c0, ref c1);
        c3 = Avx2.PermuteVar8x32(c3, rev); Cmp(ref c2, ref c3);
        c5 = Avx2.PermuteVar8x32(c5, rev); Cmp(ref c4, ref c5);
        c7 = Avx2.PermuteVar8x32(c7, rev); Cmp(ref c6, ref c7);
        c0 = Clean1(c0); c1 = Clean1(c1); c2 = Clean1(c2); c3 = Clean1(c3);
        c4 = Clean1(c4); c5 = Clean1(c5); c6 = Clean1(c6); c7 = Clean1(c7);
        // Runs of 2 -> 4.
        c3 = Avx2.PermuteVar8x32(c3, rev); c2 = Avx2.PermuteVar8x32(c2, rev);
        Cmp(ref c0, ref c3); Cmp(ref c1, ref c2);
        (c2, c3) = (c3, c2);
        Cmp(ref c0, ref c1); Cmp(ref c2, ref c3);
        c7 = Avx2.PermuteVar8x32(c7, rev); c6 = Avx2.PermuteVar8x32(c6, rev);
        Cmp(ref c4, ref c7); Cmp(ref c5, ref c6);
        (c6, c7) = (c7, c6);
        Cmp(ref c4, ref c5); Cmp(ref c6, ref c7);
        c0 = Clean1(c0); c1 = Clean1(c1); c2 = Clean1(c2); c3 = Clean1(c3);
        c4 = Clean1(c4); c5 = Clean1(c5); c6 = Clean1(c6); c7 = Clean1(c7);
        // Runs of 4 -> 8.
        c7 = Avx2.PermuteVar8x32(c7, rev); c6 = Avx2.PermuteVar8x32(c6, rev);
        c5 = Avx2.PermuteVar8x32(c5, rev); c4 = Avx2.PermuteVar8x32(c4, rev);
        Cmp(ref c0, ref c7); Cmp(ref c1, ref c6); Cmp(ref c2, ref c5); Cmp(ref c3, ref c4);
        (c4, c7) = (c7, c4);
        (c5, c6) = (c6, c5);
        // Every key of the first four vectors is now at most every key of the last four: only each half is cleaned.
        CleanHalves8(ref p, c0, c1, c2, c3, c4, c5, c6, c7);
    }

    // A bitonic sequence of 8 vectors sorted in registers and stored at p.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clean8(ref Vector256<int> p, Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3,
        Vector256<int> c4, Vector256<int> c5, Vector256<int> c6, Vector256<int> c7)
    {
        Cmp(ref c0, ref c4); Cmp(ref c1, ref c5); Cmp(ref c2, ref c6); Cmp(ref c3, ref c7);
        CleanHalves8(ref p, c0, c1, c2, c3, c4, c5, c6, c7);
    }

    // Two bitonic halves of 4 vectors (the first half's keys all at most the second's) sorted and stored at p.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CleanHalves8(ref Vector256<int> p, Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3,
        Vector256<int> c4, Vector256<int> c5, Vector256<int> c6, Vector256<int> c7)
    {
        Cmp(ref c0, ref c2); Cmp(ref c1, ref c3); Cmp(ref c4, ref c6); Cmp(ref c5, ref c7);
        Cmp(ref c0, ref c1); Cmp(ref c2, ref c3); Cmp(ref c4, ref c5); Cmp(ref c6, ref c7);
        p = Clean1(c0);
        Unsafe.Add(ref p, 1) = Clean1(c1);
        Unsafe.Add(ref p, 2) = Clean1(c2);
        Unsafe.Add(ref p, 3) = Clean1(c3);
        Unsafe.Add(ref p, 4) = Clean1(c4);
        Unsafe.Add(ref p, 5) = Clean1(c5);
        Unsafe.Add(ref p, 6) = Clean1(c6);
        Unsafe.Add(ref p, 7) = Clean1(c7);
    }

    // A bitonic vector sorted: half-cleaners at distances 4, 2 and 1 lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Clean1(Vector256<int> x)
    {
        var y = Avx2.Permute2x128(x, x, 0x01);
        x = Avx2.Blend(Avx2.Min(x, y), Avx2.Max(x, y), 0xF0);
        y = Avx2.Shuffle(x, 0x4E);
        x = Avx2.Blend(Avx2.Min(x, y), Avx2.Max(x, y), 0xCC);
        y = Avx2.Shuffle(x, 0xB1);
        return Avx2.Blend(Avx2.Min(x, y), Avx2.Max(x, y), 0xAA);
    }

    private static readonly Vector256<int> ReverseIndex = Vector256.Create(7, 6, 5, 4, 3, 2, 1, 0);

    // Two sorted runs of `run` vectors each, merged into one sorted run of 2·run vectors.
    private static void MergeRuns(ref Vector256<int> p, int run)
    {
        var rev = ReverseIndex;
        // First stage: element j of A against element j of reversed B; both halves are then bitonic.
        for (int i = 0, j = run - 1; i <= j; i++, j--)
        {
            var ai = Unsafe.Add(ref p, i);
            var bi = Avx2.PermuteVar8x32(Unsafe.Add(ref p, 2 * run - 1 - i), rev);
            if (i == j)
            {
                Unsafe.Add(ref p, i) = Avx2.Min(ai, bi);
                Unsafe.Add(ref p, run + i) = Avx2.Max(ai, bi);
                break;
            }
            var aj = Unsafe.Add(ref p, j);
            var bj = Avx2.PermuteVar8x32(Unsafe.Add(ref p, 2 * run - 1 - j), rev);
            Unsafe.Add(ref p, i) = Avx2.Min(ai, bi);
            Unsafe.Add(ref p, run + i) = Avx2.Max(ai, bi);
            Unsafe.Add(ref p, j) = Avx2.Min(aj, bj);
            Unsafe.Add(ref p, run + j) = Avx2.Max(aj, bj);
        }
        CleanBitonic(ref p, run);
        CleanBitonic(ref Unsafe.Add(ref p, run), run);
    }

    // Sorts a bitonic sequence of `count` (>= 8) vectors: half-cleaners between vectors down to distance 8, then
    // each block of 8 in registers.
    private static void CleanBitonic(ref Vector256<int> p, int count)
    {
        for (var d = count >> 1; d >= 8; d >>= 1)
            for (var blk = 0; blk < count; blk += 2 * d)
                for (var k = blk; k < blk + d; k++)
                    Cmp(ref Unsafe.Add(ref p, k), ref Unsafe.Add(ref p, k + d));
        for (var k = 0; k < count; k += 8)
        {
            ref var q = ref Unsafe.Add(ref p, k);
            Clean8(ref q, q, Unsafe.Add(ref q, 1), Unsafe.Add(ref q, 2), Unsafe.Add(ref q, 3),
                Unsafe.Add(ref q, 4), Unsafe.Add(ref q, 5), Unsafe.Add(ref q, 6), Unsafe.Add(ref q, 7));
        }
    }
}
