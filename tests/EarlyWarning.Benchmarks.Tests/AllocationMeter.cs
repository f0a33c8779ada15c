namespace EarlyWarning.Benchmarks.Tests;

/// <summary>
/// Measures managed bytes allocated per operation on the calling thread: a warm run first (JIT, pools, caches),
/// then the measured run. BenchmarkDotNet's MemoryDiagnoser does the same with more ceremony; this is fast enough
/// for every CI run.
/// </summary>
internal static class AllocationMeter
{
    /// <param name="operations">Operations one call of <paramref name="run"/> performs.</param>
    /// <param name="run">The hot path over the whole input.</param>
    /// <param name="warmRuns">Calls before measuring.</param>
    public static double BytesPerOperation(int operations, Action run, int warmRuns = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(operations);
        for (var i = 0; i < warmRuns; i++) run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        run();
        var after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before) / (double)operations;
    }

    /// <summary>
    /// Rents from <see cref="System.Buffers.ArrayPool{T}.Shared"/> on the calling thread during one run after a warm
    /// one. A zero-allocation hot path must make none (see <see cref="EarlyWarning.Tests.SharedPoolRents"/>).
    /// </summary>
    public static int SharedPoolRentsPerRun(Action run)
    {
        run();
        using var rents = new EarlyWarning.Tests.SharedPoolRents();
        run();
        return rents.Count;
    }
}
