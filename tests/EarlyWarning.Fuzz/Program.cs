using System.Diagnostics;
using System.Globalization;

namespace EarlyWarning.Fuzz;

/// <summary>
/// <c>dotnet EarlyWarning.Fuzz.dll random TARGET [N] [SEED]</c>: in-process random-mutation run (no coverage feedback);
/// <c>libfuzzer TARGET</c> / <c>afl TARGET</c>: SharpFuzz front ends for coverage-guided runs over instrumented
/// assemblies (FUZZING.md); <c>seeds TARGET DIR</c>: the starting corpus as files. Targets: decoder, text, dataset.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2 || !FuzzTargets.All.TryGetValue(args[1], out var target))
        {
            Console.Error.WriteLine("usage: EarlyWarning.Fuzz random|libfuzzer|afl|seeds|replay decoder|text|dataset [N [SEED] | DIR | FILE...]");
            return 2;
        }
        switch (args[0])
        {
            case "libfuzzer":
                SharpFuzz.Fuzzer.LibFuzzer.Run(span => target(span));
                return 0;
            case "afl":
                SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var ms = new MemoryStream();
                    stream.CopyTo(ms);
                    target(ms.ToArray());
                });
                return 0;
            case "seeds":
                // Writes the target's seed inputs as files, the starting corpus for afl-fuzz -i / libFuzzer.
                var dir = args.Length > 2 ? args[2] : "seeds-" + args[1];
                Directory.CreateDirectory(dir);
                var seeds = Seeds.For(args[1]);
                for (var i = 0; i < seeds.Count; i++) File.WriteAllBytes(Path.Combine(dir, $"seed-{i:D3}"), seeds[i]);
                Console.WriteLine($"{seeds.Count} seeds in {dir}");
                return 0;
            case "replay":
                // Runs saved inputs (crash files from a run) and names where each one escapes, for triage.
                var failed = 0;
                foreach (var file in args.Skip(2))
                {
                    try
                    {
                        target(File.ReadAllBytes(file));
                        Console.WriteLine($"{Path.GetFileName(file)}: ok");
                    }
#pragma warning disable CA1031 // triage reports every exception
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        failed++;
                        Console.WriteLine($"{Path.GetFileName(file)}: {Describe(ex)}");
                    }
                }
                return failed == 0 ? 0 : 1;
            case "random":
                var n = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
                var seed = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
                return RandomRun(args[1], target, n, seed);
            default:
                Console.Error.WriteLine($"unknown mode '{args[0]}'");
                return 2;
        }
    }

    private static int RandomRun(string name, FuzzTarget target, long n, int seed)
    {
        var mutator = new Mutator(seed, Seeds.For(name));
        var sw = Stopwatch.StartNew();
        long failures = 0, bytes = 0;
        var kinds = new Dictionary<string, long>(StringComparer.Ordinal);
        for (long i = 0; i < n; i++)
        {
            var input = mutator.Next();
            bytes += input.Length;
            try
            {
                target(input);
            }
#pragma warning disable CA1031 // a fuzz driver records every exception that escapes the target
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures++;
                var kind = Describe(ex);
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                if (kinds[kind] == 1)
                {
                    var file = $"crash-{name}-{i}.bin";
                    File.WriteAllBytes(file, input);
                    Console.WriteLine($"input {i}: {kind} (saved {file})");
                }
            }
            if ((i + 1) % 100_000 == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {i + 1} inputs, {failures} failures, {sw.Elapsed.TotalSeconds:F0} s"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {n} inputs ({bytes / Math.Max(1, n)} bytes mean), seed {seed}, {failures} failures, {sw.Elapsed.TotalSeconds:F1} s, {n / sw.Elapsed.TotalSeconds:F0} inputs/s"));
        foreach (var (k, c) in kinds) Console.WriteLine($"  {c} x {k}");
        return failures == 0 ? 0 : 1;
    }

    private static string Describe(Exception ex) =>
        ex is FuzzFailure ? "property failed: " + ex.Message : ex.GetType().Name + " in " + FirstOwnFrame(ex);

    /// <summary>The innermost project method on the stack: failures are grouped by where they escape our code.</summary>
    private static string FirstOwnFrame(Exception ex)
    {
        foreach (var line in (ex.StackTrace ?? "").Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("at EarlyWarning.", StringComparison.Ordinal) && !t.StartsWith("at EarlyWarning.Fuzz.", StringComparison.Ordinal))
            {
                var paren = t.IndexOf('(', StringComparison.Ordinal);
                return paren > 0 ? t[3..paren] : t[3..];
            }
        }
        return "(target)";
    }
}
