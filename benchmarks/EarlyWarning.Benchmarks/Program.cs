using BenchmarkDotNet.Running;
using EarlyWarning.Benchmarks.Anchors;

namespace EarlyWarning.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project benchmarks/EarlyWarning.Benchmarks -- --filter '*'</c> runs the
/// BenchmarkDotNet suites; <c>-- anchor classify-file PATH</c> and <c>-- anchor graph-export PATH [POSTS]</c> time our
/// side of the external anchors (fastText, igraph) that <c>benchmarks/baselines/run-anchors.sh</c> runs beside them;
/// <c>-- anchor export-splits</c>, <c>score</c> and <c>score-biased</c> give fastText our training data and score it on
/// our test rows (<c>benchmarks/baselines/fasttext-datasets.sh</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "anchor") return AnchorCommands.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
