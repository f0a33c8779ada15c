namespace EarlyWarning.Fuzz;

/// <summary>Each fuzz target over ~10k seeded mutated inputs: no exception escapes and every checked property holds.</summary>
public sealed class FuzzSmokeTests
{
    [Theory]
    [InlineData("decoder", 10_000)]
    [InlineData("text", 10_000)]
    [InlineData("dataset", 5_000)]
    public void No_exception_escapes_a_target(string name, int inputs)
    {
        var target = FuzzTargets.All[name];
        var mutator = new Mutator(20261108, Seeds.For(name));
        var failures = new List<string>();
        for (var i = 0; i < inputs; i++)
        {
            var input = mutator.Next();
            try { target(input); }
#pragma warning disable CA1031 // the smoke test reports every exception that escapes the target
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // The input's length and bytes (hex) are enough to reproduce; no content is echoed as text.
                if (failures.Count < 5) failures.Add($"input {i} ({input.Length} bytes, {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}): {ex.GetType().Name}: {ex.Message}");
                else if (failures.Count == 5) failures.Add("...");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Seeds_pass_and_the_decoder_accepts_its_valid_seeds()
    {
        foreach (var (name, target) in FuzzTargets.All)
            foreach (var seed in Seeds.For(name)) target(seed);
        var decoder = new EarlyWarning.Core.Posts.PostDecoder();
        Assert.All(Seeds.For("decoder"), s => Assert.True(decoder.TryDecode(s, out _, out var reason), reason));
    }

    [Fact]
    public void The_mutator_is_deterministic_per_seed_and_varied()
    {
        var a = new Mutator(7, Seeds.For("decoder"));
        var b = new Mutator(7, Seeds.For("decoder"));
        var first = Enumerable.Range(0, 200).Select(_ => Convert.ToHexString(a.Next())).ToList();
        Assert.Equal(first, Enumerable.Range(0, 200).Select(_ => Convert.ToHexString(b.Next())));
        Assert.True(first.Distinct().Count() > 150);
    }
}
