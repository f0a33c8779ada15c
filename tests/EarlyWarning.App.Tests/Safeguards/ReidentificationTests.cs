using System.Text;
using EarlyWarning.App.Http;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Tests.Safeguards;

public sealed class ReidentificationTests
{
    private static readonly string[] Originals = ["u:4711", "u:4712", "kyaw_news7", "u:99"];

    [Fact]
    public async Task Disabled_service_stores_nothing_and_finds_nothing()
    {
        var (dir, db) = SafeguardTestData.NewStorePath();
        await using var store = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(store);
        var keys = new PseudonymKeyRing(dir);
        var svc = new ReidentificationService(store, keys, log, enabled: false);
        Assert.Equal(0, await svc.RecordAsync(Originals));
        Assert.Equal(0, await store.CountPseudonymsAsync());
        var p = new Pseudonymizer(keys.CurrentKey).Pseudonymize("u:4711");
        Assert.Null(await svc.ReidentifyAsync(p, "root", DashboardRole.Admin, "case 12"));
        var audit = await log.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.Reidentify && e.Target == p && e.Note!.Contains("disabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admin_reidentifies_others_are_refused_and_every_attempt_is_audited()
    {
        var (dir, db) = SafeguardTestData.NewStorePath();
        await using var store = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(store);
        var keys = new PseudonymKeyRing(dir);
        Assert.Equal(keys.CurrentKey, await File.ReadAllBytesAsync(Path.Combine(dir, "pseudonym.key")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "pseudonym.key.v1")));
        var svc = new ReidentificationService(store, keys, log, enabled: true);
        Assert.Equal(Originals.Length, await svc.RecordAsync([.. Originals, .. Originals]));
        var pseudonymizer = new Pseudonymizer(keys.CurrentKey);
        foreach (var id in Originals)
            Assert.Equal(id, await svc.ReidentifyAsync(pseudonymizer.Pseudonymize(id), "root", DashboardRole.Admin, "court order 7"));
        Assert.Null(await svc.ReidentifyAsync("p_0123456789abcdef", "root", DashboardRole.Admin, "typo"));

        var target = pseudonymizer.Pseudonymize("u:4711");
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.ReidentifyAsync(target, "ana", DashboardRole.Analyst, "curious"));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.ReidentifyAsync(target, "vic", DashboardRole.Viewer, "curious"));

        var audit = await log.ReadAsync();
        Assert.Equal(Originals.Length + 1, audit.Count(e => e.Action == AuditActions.Reidentify && e.Actor == "root"));
        Assert.Equal(2, audit.Count(e => e.Action == AuditActions.ReidentifyDenied && e.Target == target));
        // The audit log names the pseudonym, never the original.
        Assert.DoesNotContain(audit, e => (e.Target + e.Note).Contains("u:4711", StringComparison.Ordinal));
        store.Dispose();
        // The originals are encrypted in the file: no plaintext copy.
        foreach (var id in Originals)
        {
            Assert.False(SafeguardTestData.FileContains(db, Encoding.UTF8.GetBytes(id)), "plaintext id in the database");
            Assert.False(SafeguardTestData.FileContains(db + "-wal", Encoding.UTF8.GetBytes(id)), "plaintext id in the WAL");
        }
    }

    [Fact]
    public async Task A_moved_or_changed_ciphertext_fails_authentication()
    {
        var (dir, db) = SafeguardTestData.NewStorePath();
        await using var store = new SqliteSafeguardStore(db);
        var keys = new PseudonymKeyRing(dir);
        var svc = new ReidentificationService(store, keys, new SqliteAuditLog(store), enabled: true);
        await svc.RecordAsync(["u:1", "u:2"]);
        var p = new Pseudonymizer(keys.CurrentKey);
        var e1 = await store.GetPseudonymAsync(1, p.Pseudonymize("u:1"));
        Assert.NotNull(e1);
        // Someone copies u:1's entry under another pseudonym: the associated data no longer matches.
        await store.PutPseudonymsAsync([e1 with { Pseudonym = "p_ffffffffffffffff" }]);
        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(
            () => svc.ReidentifyAsync("p_ffffffffffffffff", "root", DashboardRole.Admin, "test"));
    }

    [Fact]
    public async Task Rotation_makes_a_new_key_version_and_maps_old_pseudonyms_forward()
    {
        var (dir, db) = SafeguardTestData.NewStorePath();
        await using var store = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(store);
        var keys = new PseudonymKeyRing(dir);
        var svc = new ReidentificationService(store, keys, log, enabled: true);
        await svc.RecordAsync(Originals);
        var v1 = new Pseudonymizer(keys.GetKey(1));

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.RotateAsync("ana", DashboardRole.Analyst));
        Assert.Equal(1, keys.CurrentVersion);

        var r = await svc.RotateAsync("root", DashboardRole.Admin);
        Assert.Equal((1, 2, Originals.Length), (r.OldVersion, r.NewVersion, r.MappedForward));
        Assert.Equal(2, keys.CurrentVersion);
        Assert.NotEqual(keys.GetKey(1), keys.GetKey(2));
        // run loads pseudonym.key: it is the new version now, and a fresh key ring agrees.
        Assert.Equal(keys.GetKey(2), await File.ReadAllBytesAsync(Path.Combine(dir, "pseudonym.key")));
        Assert.Equal(2, new PseudonymKeyRing(dir).CurrentVersion);

        var v2 = new Pseudonymizer(keys.GetKey(2));
        foreach (var id in Originals)
        {
            Assert.NotEqual(v1.Pseudonymize(id), v2.Pseudonymize(id));
            Assert.Equal(v2.Pseudonymize(id), await svc.MapForwardAsync(1, v1.Pseudonymize(id)));
            // Both old and new pseudonyms still re-identify.
            Assert.Equal(id, await svc.ReidentifyAsync(v1.Pseudonymize(id), "root", DashboardRole.Admin, "x"));
            Assert.Equal(id, await svc.ReidentifyAsync(v2.Pseudonymize(id), "root", DashboardRole.Admin, "x"));
        }
        // A second rotation chains: v1 pseudonyms map to v3.
        await svc.RotateAsync("root", DashboardRole.Admin);
        var v3 = new Pseudonymizer(keys.GetKey(3));
        Assert.Equal(v3.Pseudonymize("u:99"), await svc.MapForwardAsync(1, v1.Pseudonymize("u:99")));
        var audit = await log.ReadAsync(actionPrefix: AuditActions.KeyRotation);
        Assert.Equal(3, audit.Count);
        Assert.Single(audit, e => e.Action == AuditActions.KeyRotation + "_denied");
    }

    [Fact]
    public void A_key_replaced_by_hand_is_reported()
    {
        var dir = EarlyWarning.Tests.TestPaths.NewTempDir("ew-keys");
        _ = new PseudonymKeyRing(dir);
        File.Delete(Path.Combine(dir, "pseudonym.key"));
        File.WriteAllBytes(Path.Combine(dir, "pseudonym.key"), new byte[32]);
        var ex = Assert.Throws<InvalidDataException>(() => new PseudonymKeyRing(dir));
        Assert.Contains("replaced", ex.Message, StringComparison.Ordinal);
    }
}
