using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Network.Matching;

namespace EarlyWarning.Benchmarks.Network;

/// <summary>
/// Issue 5's PDQ target: ≥ 40k lookups/s against 10M hashes on 2 cores at distance ≤ 31. One list of 10M random
/// PDQ hashes (threshold 31); 20,000 queries: 10,000 near-duplicates of listed hashes with exactly d = i mod 41
/// bits flipped (d = 0..40) and 10,000 random hashes. Throughput is lookups/s (OperationsPerInvoke = queries) for
/// the batch path of <see cref="HashListMatcher.MatchPdqMany"/> and for lookups one at a time, on 1 and 2 threads;
/// the baseline is a plain linear scan of a 100k-entry subset (100× fewer hashes). Recall and the SIMD-vs-scalar
/// check are written to benchmarks/results/pdq-setup.txt (in-process BenchmarkDotNet drops console output).
/// The index is built once per process and shared by all the cases.
/// </summary>
[Config(typeof(MonitoringInProcessConfig))]
public class PdqBenchmarks
{
    public const int Entries = 10_000_000;
    public const int NearDuplicates = 10_000;
    public const int RandomQueries = 10_000;
    public const int Queries = NearDuplicates + RandomQueries;
    public const int ScanSubset = 100_000;
    public const int MaxDistance = 31;

    private static State? s_state;

    private sealed class State
    {
        public required HashListMatcher Matcher { get; init; }
        public required ulong[] Subset { get; init; }
        public required string[] Queries { get; init; }
        public required ulong[] QueryWords { get; init; }
    }

    private State _s = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (s_state is { } ready)
        {
            _s = ready;
            return;
        }
        var log = new StringBuilder();
        log.AppendLine(CultureInfo.InvariantCulture, $"PdqBenchmarks setup {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}, {Environment.ProcessorCount} cores, AVX-512 scan: {HashListMatcher.SimdSupported}");
        var rng = new Random(2026_12_06);
        var matcher = new HashListMatcher { MaxDegreeOfParallelism = 2 };
        matcher.Configure(new HashListConfig("bench", HashType.Pdq, MaxDistance: MaxDistance, Version: "1"));
        var sw = Stopwatch.StartNew();
        // Sources of the planted near-duplicates: every 1000th entry (10,000 of them), kept as words.
        var sources = new ulong[NearDuplicates * 4];
        var subset = new ulong[ScanSubset * 4];
        Span<ulong> w = stackalloc ulong[4];
        for (var i = 0; i < Entries; i++)
        {
            for (var k = 0; k < 4; k++) w[k] = RandomWord(rng);
            if (i % (Entries / NearDuplicates) == 0) w.CopyTo(sources.AsSpan(i / (Entries / NearDuplicates) * 4, 4));
            if (i < ScanSubset) w.CopyTo(subset.AsSpan(i * 4, 4));
            if (matcher.Add(Hex(w), "bench", "e") is { } reason) throw new InvalidOperationException(reason);
        }
        var loadTime = sw.Elapsed;
        sw.Restart();
        matcher.Build();
        log.AppendLine(CultureInfo.InvariantCulture, $"{matcher.PdqCount:N0} hashes loaded in {loadTime.TotalSeconds:F1} s, index built in {sw.Elapsed.TotalSeconds:F1} s (2 threads), process working set {Process.GetCurrentProcess().WorkingSet64 / 1e9:F1} GB");

        var queries = new string[Queries];
        var queryWords = new ulong[Queries * 4];
        var planted = new int[Queries];
        var positions = Enumerable.Range(0, 256).ToArray();
        for (var i = 0; i < NearDuplicates; i++)
        {
            var d = i % 41;
            sources.AsSpan(i * 4, 4).CopyTo(w);
            // Exactly d distinct bits: a partial Fisher-Yates shuffle of the 256 bit positions.
            for (var k = 0; k < d; k++)
            {
                var j = k + rng.Next(256 - k);
                (positions[k], positions[j]) = (positions[j], positions[k]);
                w[positions[k] / 64] ^= 1UL << (positions[k] % 64);
            }
            w.CopyTo(queryWords.AsSpan(i * 4, 4));
            queries[i] = Hex(w);
            planted[i] = d;
        }
        for (var i = NearDuplicates; i < Queries; i++)
        {
            for (var k = 0; k < 4; k++) w[k] = RandomWord(rng);
            w.CopyTo(queryWords.AsSpan(i * 4, 4));
            queries[i] = Hex(w);
            planted[i] = -1;
        }

        // Recall on both paths (batch, one at a time) and with the scalar scan: all must agree.
        var batch = matcher.MatchPdqMany(queries);
        log.AppendLine(Recall("batch (MatchPdqMany, AVX-512 scan)", batch, queries, sources, planted));
        matcher.PdqBatchMinimum = int.MaxValue;
        var single = matcher.MatchPdqMany(queries);
        log.AppendLine(Recall("one at a time (MatchPdq, AVX-512 scan)", single, queries, sources, planted));
        matcher.PdqSimd = false;
        var scalar = matcher.MatchPdqMany(queries);
        matcher.PdqBatchMinimum = 0;
        var scalarBatch = matcher.MatchPdqMany(queries);
        matcher.PdqSimd = true;
        matcher.PdqBatchMinimum = new HashListMatcher().PdqBatchMinimum;
        var same = Same(batch, single) && Same(batch, scalar) && Same(batch, scalarBatch);
        log.AppendLine(CultureInfo.InvariantCulture, $"batch, one-at-a-time, scalar one-at-a-time and scalar batch results identical: {same}");
        if (!same) throw new InvalidOperationException("PDQ paths disagree");
        log.AppendLine(CultureInfo.InvariantCulture, $"setup done, load average {LoadAverage()}");

        var results = Path.Combine(RepoPaths.Root, "benchmarks", "results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, "pdq-setup.txt"), log.ToString());
        _s = s_state = new State { Matcher = matcher, Subset = subset, Queries = queries, QueryWords = queryWords };
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Queries, Description = "linear scan of a 100k subset, 1 thread (baseline)")]
    public int LinearScan100k()
    {
        var hits = 0;
        var h = _s.Subset;
        var q = _s.QueryWords;
        for (var i = 0; i < Queries; i++)
        {
            ulong q0 = q[i * 4], q1 = q[(i * 4) + 1], q2 = q[(i * 4) + 2], q3 = q[(i * 4) + 3];
            for (var j = 0; j < h.Length; j += 4)
            {
                var d = BitOperations.PopCount(q0 ^ h[j]) + BitOperations.PopCount(q1 ^ h[j + 1])
                    + BitOperations.PopCount(q2 ^ h[j + 2]) + BitOperations.PopCount(q3 ^ h[j + 3]);
                if (d <= MaxDistance) hits++;
            }
        }
        return hits;
    }

    [Benchmark(OperationsPerInvoke = Queries, Description = "10M, MatchPdqMany batch, 2 threads")]
    public int Batch2Threads() => Run(threads: 2, batch: true);

    [Benchmark(OperationsPerInvoke = Queries, Description = "10M, MatchPdqMany batch, 1 thread")]
    public int Batch1Thread() => Run(threads: 1, batch: true);

    [Benchmark(OperationsPerInvoke = Queries, Description = "10M, one lookup at a time, 2 threads")]
    public int Single2Threads() => Run(threads: 2, batch: false);

    [Benchmark(OperationsPerInvoke = Queries, Description = "10M, one lookup at a time, 1 thread")]
    public int Single1Thread() => Run(threads: 1, batch: false);

    private int Run(int threads, bool batch)
    {
        var m = _s.Matcher;
        m.MaxDegreeOfParallelism = threads;
        m.PdqBatchMinimum = batch ? 0 : int.MaxValue;
        var hits = 0;
        foreach (var r in m.MatchPdqMany(_s.Queries)) hits += r.Matches.Count;
        return hits;
    }

    private static string Recall(string path, PdqLookup[] results, string[] queries, ulong[] sources, int[] planted)
    {
        int within = 0, found = 0, beyond = 0, reportedBeyond = 0, randomHits = 0, wrongDistance = 0;
        for (var i = 0; i < queries.Length; i++)
        {
            var r = results[i];
            if (planted[i] < 0)
            {
                randomHits += r.Matches.Count;
                continue;
            }
            var source = Hex(sources.AsSpan(i * 4, 4));
            var hit = r.Matches.FirstOrDefault(x => x.EntryHash == source);
            if (hit is not null && hit.Distance != planted[i]) wrongDistance++;
            if (planted[i] <= MaxDistance)
            {
                within++;
                if (hit is not null) found++;
            }
            else
            {
                beyond++;
                if (r.Matches.Count > 0) reportedBeyond++;
            }
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{path}: recall at d <= 31: {found}/{within}; queries planted at d 32-40 with any match reported: {reportedBeyond}/{beyond}; matches on {RandomQueries} random queries: {randomHits}; wrong distances: {wrongDistance}");
    }

    private static bool Same(PdqLookup[] a, PdqLookup[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i].Valid != b[i].Valid || a[i].Matches.Count != b[i].Matches.Count) return false;
            for (var k = 0; k < a[i].Matches.Count; k++)
                if (a[i].Matches[k] != b[i].Matches[k]) return false;
        }
        return true;
    }

    private static ulong RandomWord(Random rng) => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);

    private static string Hex(ReadOnlySpan<ulong> w)
    {
        Span<char> c = stackalloc char[64];
        for (var k = 0; k < 4; k++) w[k].TryFormat(c[(k * 16)..], out _, "x16", CultureInfo.InvariantCulture);
        return new string(c);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
