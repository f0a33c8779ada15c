using System.Globalization;
using EarlyWarning.Text.Myanmar;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Text.Tests;

public class MyanmarTests
{
    private static string Tools(string file) => EarlyWarning.Tests.TestPaths.Data("myanmar-tools", file);

    [Fact]
    public void Detector_loads_the_shipped_model_copy_and_it_matches_the_shared_one()
    {
        var shipped = ZawgyiDetector.FindModelPath();
        Assert.Equal(File.ReadAllBytes(Tools("zawgyiUnicodeModel.dat")), File.ReadAllBytes(shipped));
        Assert.True(File.Exists(Path.Combine(EarlyWarning.Tests.TestPaths.RepoRoot, "models", "text", "NOTICE")));
    }

    [Fact]
    public void Detector_reproduces_compatibility_tsv()
    {
        var detector = new ZawgyiDetector(Tools("zawgyiUnicodeModel.dat"));
        int total = 0, agree = 0;
        foreach (var line in File.ReadLines(Tools("compatibility.tsv")))
        {
            if (line.Length == 0) continue;
            var tab = line.IndexOf('\t');
            var expected = line[..tab] == "-Infinity" ? double.NegativeInfinity : double.Parse(line.AsSpan(0, tab), CultureInfo.InvariantCulture);
            var actual = detector.GetZawgyiProbability(line.AsSpan(tab + 1));
            total++;
            var ok = double.IsNegativeInfinity(expected)
                ? double.IsNegativeInfinity(actual)
                : Math.Abs(actual - expected) <= 1e-9 * Math.Max(1e-300, Math.Abs(expected)) + 1e-15;
            if (ok) agree++;
        }
        Assert.Equal(50, total);
        Assert.True(agree >= 0.99 * total, $"{agree}/{total} agree");
    }

    [Fact]
    public void Detector_separates_the_parallel_files()
    {
        var d = ZawgyiDetector.Default;
        var z = File.ReadAllLines(Tools("mmgov_zawgyi_src.txt")).Concat(File.ReadAllLines(Tools("udhr_mya_zawgyi_out.txt"))).Where(l => l.Length > 20).ToList();
        var u = File.ReadAllLines(Tools("mmgov_unicode_out.txt")).Concat(File.ReadAllLines(Tools("udhr_mya_unicode_src.txt"))).Where(l => l.Length > 20).ToList();
        Assert.True(z.Count(l => d.GetZawgyiProbability(l) > 0.95) >= 0.9 * z.Count); // measured 117/126
        Assert.True(u.Count(l => d.GetZawgyiProbability(l) < 0.05) >= 0.95 * u.Count);
    }

    [Fact]
    public void Model_reader_rejects_damaged_files_with_a_reason()
    {
        var bytes = File.ReadAllBytes(Tools("zawgyiUnicodeModel.dat"));
        Assert.Throws<InvalidDataException>(() => new ZawgyiDetector(bytes.AsSpan(0, bytes.Length / 2)));
        var bad = (byte[])bytes.Clone();
        bad[0] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => new ZawgyiDetector(bad));
    }

    [Fact]
    public void Icu_conversion_is_identical_to_mmgov_unicode_out()
    {
        Assert.True(ZawgyiConverter.IsAvailable, ZawgyiConverter.UnavailableReason);
        var src = File.ReadAllLines(Tools("mmgov_zawgyi_src.txt"));
        var expected = File.ReadAllLines(Tools("mmgov_unicode_out.txt"));
        Assert.Equal(expected.Length, src.Length);
        var mismatches = Enumerable.Range(0, src.Length).Where(i => ZawgyiConverter.Convert(src[i]) != expected[i]).ToList();
        Assert.True(mismatches.Count == 0, $"lines differing: {string.Join(",", mismatches)} (library {ZawgyiConverter.LibraryPath})");
    }

    [Fact]
    public void Icu_conversion_works_from_many_threads()
    {
        var src = File.ReadAllLines(Tools("mmgov_zawgyi_src.txt"));
        var expected = File.ReadAllLines(Tools("mmgov_unicode_out.txt"));
        var failures = 0;
        Parallel.For(0, src.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var i = k % src.Length;
            if (ZawgyiConverter.Convert(src[i]) != expected[i]) Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Normalizer_converts_zawgyi_only_when_the_detector_is_sure()
    {
        var withStep = new TextNormalizer(NormalizationSteps.ZawgyiToUnicode);
        var src = File.ReadAllLines(Tools("mmgov_zawgyi_src.txt"));
        var expected = File.ReadAllLines(Tools("mmgov_unicode_out.txt"));
        var converted = Enumerable.Range(0, src.Length).Count(i => withStep.Normalize(src[i]) == expected[i]);
        Assert.True(converted >= 0.9 * src.Length, $"{converted}/{src.Length}");
        // Unicode text is left alone.
        foreach (var line in File.ReadLines(Tools("udhr_mya_unicode_src.txt")).Take(50))
            Assert.Equal(line, withStep.Normalize(line));
        // Without the step, Zawgyi stays Zawgyi.
        Assert.Equal(src[0], new TextNormalizer(NormalizationSteps.None).Normalize(src[0]));
    }
}
