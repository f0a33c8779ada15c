using BenchmarkDotNet.Running;

namespace EarlyWarning.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release --project benchmarks/EarlyWarning.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
