using System.Buffers;
using System.Diagnostics.Tracing;

namespace EarlyWarning.Tests;

/// <summary>
/// Counts rents from <see cref="ArrayPool{T}.Shared"/> (for the primitive element types) made on one thread while it listens. The shared
/// pool drops its arrays after a gen-2 collection under memory pressure and then allocates on the next rent, so a hot
/// path that promises zero allocation must not rent from it; a byte count alone only catches that when memory happens
/// to be short (as it once was in CI). The pool reports every rent to its event source, synchronously on the renting
/// thread, which makes the check deterministic.
/// </summary>
internal sealed class SharedPoolRents : EventListener
{
    // Non-shared pools (ArrayPool<T>.Create) report to the same event source; an event's poolId tells them apart.
    private static readonly HashSet<int> SharedPoolIds =
    [
        ArrayPool<byte>.Shared.GetHashCode(), ArrayPool<char>.Shared.GetHashCode(), ArrayPool<int>.Shared.GetHashCode(),
        ArrayPool<uint>.Shared.GetHashCode(), ArrayPool<long>.Shared.GetHashCode(), ArrayPool<ulong>.Shared.GetHashCode(),
        ArrayPool<float>.Shared.GetHashCode(), ArrayPool<double>.Shared.GetHashCode(),
    ];

    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private int _count;

    /// <summary>Rents seen so far on the thread that created this listener.</summary>
    public int Count => Volatile.Read(ref _count);

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "System.Buffers.ArrayPoolEventSource") EnableEvents(source, EventLevel.Verbose);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        // Events can arrive before the constructor body has run (OnEventSourceCreated is called from the base
        // constructor); _threadId is a field initialiser, so it is set by then.
        if (e.EventName == "BufferRented" && Environment.CurrentManagedThreadId == _threadId
            && e.PayloadNames?.IndexOf("poolId") is int i and >= 0 && e.Payload?[i] is int poolId && SharedPoolIds.Contains(poolId))
            Interlocked.Increment(ref _count);
    }
}
