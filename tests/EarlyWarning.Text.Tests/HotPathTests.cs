using CsCheck;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Language;
using EarlyWarning.Text.Matching;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Tests;

public class HotPathTests
{
    // One pass of the default hot path over a multilingual corpus that includes Zawgyi posts (the conversion path
    // must not allocate either); each call runs it once more.
    private static Action HotPath()
    {
        var h = new FeatureHasher();
        var texts = Corpus.Multilingual(150);
        texts.AddRange(File.ReadLines(EarlyWarning.Tests.TestPaths.Data("myanmar-tools", "mmgov_zawgyi_src.txt")).Take(20));
        var idx = new int[1024];
        var val = new float[1024];
        var sig = new ulong[64];
        var mh = new MinHasher();
        var norm = new char[TextNormalizer.MaxOutputLength(70_000)];
        return () =>
        {
            foreach (var t in texts)
            {
                h.Featurize(t, idx, val);
                h.Normalizer.Normalize(t, norm, out var n);
                mh.Compute(norm.AsSpan(0, n), sig);
                _ = ScriptLanguageDetector.Detect(t.AsSpan());
            }
        };
    }

    [Fact]
    public void Normalise_tokenise_featurise_allocates_nothing_per_post_in_steady_state()
    {
        var runAll = HotPath();
        runAll(); // warm up: pools, lazy tables, ICU transliterator
        runAll();
        // Optimised code from the start (TieredCompilation is off for this project): tier-0 code lacks the JIT's escape
        // analysis, so on a loaded machine a late tier-up could otherwise make this measurement flip.
        var before = GC.GetAllocatedBytesForCurrentThread();
        runAll();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated");
    }

    // See SharedPoolRents: CI once saw 2,016 bytes in the test above, Zawgyi buffers rented from the shared pool.
    [Fact]
    public void Steady_state_hot_path_rents_nothing_from_the_shared_array_pool()
    {
        var runAll = HotPath();
        runAll();
        using var rents = new EarlyWarning.Tests.SharedPoolRents();
        runAll();
        Assert.True(rents.Count == 0, $"{rents.Count} rents from ArrayPool.Shared");
        // The listener does see this thread's rents (so a zero above is not a deaf listener).
        System.Buffers.ArrayPool<char>.Shared.Return(System.Buffers.ArrayPool<char>.Shared.Rent(100));
        Assert.True(rents.Count > 0, "the listener saw no rent");
    }

    private static readonly Gen<string> AnyUtf16 = Gen.Int[0, 0xFFFF].Select(i => (char)i).Array[0, 300].Select(a => new string(a));

    // Characters that exercise every branch: Latin, leet, spacers, Myanmar (incl. marks), Sinhala, Thai, emoji halves, invisibles.
    private static readonly Gen<string> Tricky = Gen.OneOfConst(
            'a', 'k', 'I', '1', '3', '@', '$', '!', '|', ' ', '.', '-', '_', '#', '\'', 'h', 't', 'p', ':', '/', 'w',
            'к', 'і', 'ο', '\u1000', '\u1039', '\u103A', '\u1037', '\u102E', '\u1025', '\u1040', '\u104B', '\u0DD9', '\u0DCA',
            '\u0E2A', '\u0E31', '\u200B', '\u200D', '\uFEFF', '\uD83D', '\uDE00', '\uDFFB', '\uD83C', '\uFB01', '\u0301', 'ｋ')
        .Array[0, 200].Select(a => new string(a));

    private static readonly FeatureHasher Hasher = new();
    private static readonly FeatureHasher HasherV2 = new(new FeaturizerOptions { Algorithm = FeaturizerOptions.AlgorithmV2 });
    private static readonly MultiPatternMatcher Matcher = new([("kill", 1), ("က", 2), ("a", 3), ("k i", 4)]);

    private static void Exercise(string s)
    {
        var idx = new int[1024];
        var val = new float[1024];
        var n = Hasher.Featurize(s, idx, val);
        Assert.InRange(n, 0, 1024);
        // ew-hash-v3 (default): entries in text order, each index in the space, each value ±1/√n.
        for (var i = 0; i < n; i++)
        {
            Assert.InRange(idx[i], 0, Hasher.Options.Dimension - 1);
            Assert.Equal(1f / MathF.Sqrt(n), MathF.Abs(val[i]), 1e-6f);
        }
        // ew-hash-v2 (older models): sorted, distinct indices.
        n = HasherV2.Featurize(s, idx, val);
        Assert.InRange(n, 0, 1024);
        for (var i = 1; i < n; i++) Assert.True(idx[i - 1] < idx[i]);
        var norm = Hasher.Normalizer.Normalize(s);
        foreach (var t in Tokenizer.Tokenize(norm))
        {
            Assert.True(t.Length > 0 && t.Start >= 0 && t.Start + t.Length <= norm.Length);
        }
        var m = new PatternMatch[32];
        var k = Matcher.FindAll(norm, m);
        for (var i = 0; i < k; i++) Assert.True(m[i].Start >= 0 && m[i].Start + m[i].Length <= norm.Length);
        new MinHasher(16).Compute(norm, new ulong[16]);
        _ = SimHasher.Compute(norm);
        _ = ScriptLanguageDetector.Detect(s);
        _ = Hasher.Describe(s);
    }

    [Fact]
    public void No_utf16_input_throws_or_reads_out_of_bounds() => AnyUtf16.Sample(Exercise, iter: 3000);

    [Fact]
    public void No_adversarial_mix_throws_or_reads_out_of_bounds() => Tricky.Sample(Exercise, iter: 3000);

    [Fact]
    public void Huge_repeats_are_handled()
    {
        Gen.Select(Tricky, Gen.Int[1000, 20000]).Sample(p =>
        {
            var (unit, times) = p;
            if (unit.Length == 0) return;
            var s = string.Concat(Enumerable.Repeat(unit, Math.Max(1, times / unit.Length)));
            Exercise(s);
        }, iter: 20);
        Exercise(new string('a', 70_000));
        Exercise(string.Concat(Enumerable.Repeat("\uFDFA", 5000))); // NFKC expands this 18x
        Exercise(string.Concat(Enumerable.Repeat("k ", 30_000)));
    }
}
