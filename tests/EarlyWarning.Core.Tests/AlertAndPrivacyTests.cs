using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Tests;

namespace EarlyWarning.Core.Tests;

public class AlertAndPrivacyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Alert_id_depends_on_kind_scope_and_window_start_only()
    {
        var scope = new Scope("MM", "Rakhine", "rohingya");
        var a = Alert.MakeId(AlertKinds.VolumeSpike, scope, T0);
        Assert.Equal(a, Alert.MakeId(AlertKinds.VolumeSpike, new Scope("MM", "Rakhine", "rohingya"), T0));
        Assert.NotEqual(a, Alert.MakeId(AlertKinds.Incitement, scope, T0));
        Assert.NotEqual(a, Alert.MakeId(AlertKinds.VolumeSpike, scope with { Region = "Yangon" }, T0));
        Assert.NotEqual(a, Alert.MakeId(AlertKinds.VolumeSpike, scope, T0.AddMinutes(1)));
        Assert.StartsWith("al_", a);
    }

    [Theory]
    [InlineData(Severity.Low, "low")]
    [InlineData(Severity.Critical, "critical")]
    public void Severity_names_round_trip(Severity s, string name)
    {
        Assert.Equal(name, Alert.SeverityName(s));
        Assert.Equal(s, Alert.ParseSeverity(name));
    }

    [Fact]
    public void Pseudonyms_are_stable_per_key_and_differ_across_keys()
    {
        var k1 = new byte[32]; k1[0] = 1;
        var k2 = new byte[32]; k2[0] = 2;
        var p1 = new Pseudonymizer(k1);
        var p2 = new Pseudonymizer(k2);
        Assert.Equal(p1.Pseudonymize("u:88121"), p1.Pseudonymize("u:88121"));
        Assert.NotEqual(p1.Pseudonymize("u:88121"), p1.Pseudonymize("u:88122"));
        Assert.NotEqual(p1.Pseudonymize("u:88121"), p2.Pseudonymize("u:88121"));
        Assert.DoesNotContain("88121", p1.Pseudonymize("u:88121"), StringComparison.Ordinal);
        Assert.Equal("u:88121", new Pseudonymizer([], enabled: false).Pseudonymize("u:88121"));
    }

    /// <summary>
    /// A pseudonym is p_ and the first 8 bytes of HMAC-SHA256(key, UTF-8 id) in lower-case hex, whichever thread asks
    /// and however many ids each thread's kept HMAC has hashed before (checked against the one-shot HMAC).
    /// </summary>
    [Fact]
    public void Pseudonyms_are_the_keyed_hmac_of_the_id_on_every_thread()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)(i * 37)).ToArray();
        var p = new Pseudonymizer(key);
        var ids = Enumerable.Range(0, 400).Select(i => i % 5 == 0 ? "ユーザー" + i : i % 7 == 0 ? "" : "acct_" + (i * 7919)).ToArray();
        string Expected(string id) =>
            "p_" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes(id)).AsSpan(0, 8));
        var failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (var round = 0; round < 5; round++)
                foreach (var id in ids)
                    if (p.Pseudonymize(id) != Expected(id)) Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
        Assert.Equal(Expected("u:88121"), p.Pseudonymize("u:88121"));
    }

    [Fact]
    public void Key_file_is_created_once_with_owner_only_mode()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "pseudonym.key");
        var k = Pseudonymizer.LoadOrCreateKey(path);
        Assert.Equal(32, k.Length);
        Assert.Equal(k, Pseudonymizer.LoadOrCreateKey(path));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
