using System.Buffers;

namespace EarlyWarning.Core.Buffers;

/// <summary>
/// Array pools for hot paths that promise zero allocation in steady state. <see cref="ArrayPool{T}.Shared"/> cannot
/// keep that promise: after a gen-2 collection under memory pressure it drops the arrays it holds (per thread and per
/// core), so the next rent allocates again, and a long run on a busy laptop allocates at exactly the moments memory
/// is short. These pools (<see cref="ArrayPool{T}.Create(int, int)"/>) never trim: an array returned stays for the
/// next rent. Use them for per-batch buffers whose sizes repeat; one-off and unbounded sizes belong in the shared pool.
/// </summary>
public static class SteadyPool<T>
{
    /// <summary>Largest array the pool keeps (longer ones are allocated and dropped on return).</summary>
    public const int MaxArrayLength = 1 << 21;

    /// <summary>Arrays kept per size class: enough for every concurrent classify worker.</summary>
    public const int ArraysPerSize = 32;

    /// <summary>The process-wide pool for <typeparamref name="T"/>.</summary>
    public static ArrayPool<T> Shared { get; } = ArrayPool<T>.Create(MaxArrayLength, ArraysPerSize);
}
