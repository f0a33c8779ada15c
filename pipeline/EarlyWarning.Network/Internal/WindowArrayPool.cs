using System.Buffers;

namespace EarlyWarning.Network.Internal;

/// <summary>
/// Pool for the window-sized arrays of state captures and the pair bound (up to millions of elements: large objects).
/// <see cref="ArrayPool{T}.Shared"/> hands idle arrays back to the collector at gen-2 collections, and captures are tens
/// of seconds apart, so it allocated them afresh almost every time, and each large-object allocation counts towards
/// the budget that starts the next full collection. This pool keeps up to two arrays per size class for the life of
/// the process (about the size of one capture), and never trims.
/// </summary>
internal static class WindowArrayPool<T>
{
    public static ArrayPool<T> Shared { get; } = ArrayPool<T>.Create(maxArrayLength: 1 << 24, maxArraysPerBucket: 2);
}
