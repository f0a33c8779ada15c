using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace EarlyWarning.Benchmarks.Inputs;

/// <summary>
/// A short job run in process: the machine has 2 cores shared with builds, and BenchmarkDotNet's per-job project
/// build times out under load, so the stage suites skip it. 1 launch, 3 warm-up, 5 measured iterations.
/// </summary>
public sealed class ShortInProcessConfig : ManualConfig
{
    public ShortInProcessConfig()
    {
        AddJob(Job.ShortRun.WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>Like <see cref="ShortInProcessConfig"/> but one invocation per iteration, for benchmarks with per-iteration setup.</summary>
public sealed class MonitoringInProcessConfig : ManualConfig
{
    public MonitoringInProcessConfig()
    {
        AddJob(Job.Dry.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(6)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("MonitoringInProcess"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
