using System.Buffers;

namespace EarlyWarning.Text.Internal;

/// <summary>
/// Per-thread scratch arrays for the hot path: one thread-static lookup per call instead of several
/// <see cref="ArrayPool{T}"/> rent/return pairs. Texts too long for them fall back to the shared pool.
/// The text stage never calls back into user code while holding them, so a thread cannot use one twice at once.
/// </summary>
internal sealed class ThreadScratch
{
    /// <summary>Chars per buffer kept per thread (larger requests are rented).</summary>
    public const int CharCapacity = 4096;

    [ThreadStatic] private static ThreadScratch? t_current;

    public static ThreadScratch Current => t_current ??= new ThreadScratch();

    /// <summary>Sanitised input (Normalize).</summary>
    public readonly char[] Clean = new char[CharCapacity];
    /// <summary>NFKC output (Normalize).</summary>
    public readonly char[] Nfkc = new char[CharCapacity * 4 + 16];
    /// <summary>Normalised text (Featurize).</summary>
    public readonly char[] Normalized = new char[CharCapacity];
    /// <summary>Raw feature keys and sort scratch (Featurize).</summary>
    public readonly int[] Keys = new int[CharCapacity * 6];
    public readonly int[] Sorted = new int[CharCapacity * 6];
    /// <summary>One word as '&lt;' word '&gt;' for its character n-grams (Featurize; longer words take the general loop).</summary>
    public readonly char[] PaddedWord = new char[256];
    /// <summary>Merged features when the caller's spans are narrower than a post's keys (Featurize, sorting-network path).</summary>
    public readonly int[] MergedIndices = new int[Features.SimdKeySort.MaxKeys + 1];
    public readonly float[] MergedValues = new float[Features.SimdKeySort.MaxKeys + 1];
    /// <summary>Zawgyi text converted to Unicode (Normalize); created on a thread's first Zawgyi post.</summary>
    public char[] Zawgyi => _zawgyi ??= new char[CharCapacity * 2 + 16];
    /// <summary>ICU's in-place transform buffer (ZawgyiConverter); created on a thread's first Zawgyi post.</summary>
    public char[] Transform => _transform ??= new char[CharCapacity * 2 + 16];

    private char[]? _zawgyi, _transform;

    /// <summary>Returns <paramref name="own"/> when it is big enough, else a rented array (recorded in <paramref name="rented"/>).</summary>
    public static T[] Get<T>(T[] own, int length, ref T[]? rented)
    {
        if (length <= own.Length) return own;
        rented = ArrayPool<T>.Shared.Rent(length);
        return rented;
    }

    public static void Return<T>(T[]? rented)
    {
        if (rented is not null) ArrayPool<T>.Shared.Return(rented);
    }
}
