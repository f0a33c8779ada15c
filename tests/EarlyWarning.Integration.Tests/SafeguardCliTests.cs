using System.Text.Json;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Posts;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>The command-line verbs <c>appeal</c>, <c>reidentify</c> and <c>rotate-key</c> on a store and data folder.</summary>
public sealed class SafeguardCliTests
{
    [Fact]
    public async Task Appeal_reidentify_and_rotate_key_work_from_the_command_line_and_are_audited()
    {
        var dir = TestPaths.NewTempDir("ew-sg-cli");
        var db = Path.Combine(dir, "earlywarning.db");
        await using (var store = await SqliteStore.OpenAsync(db)) await store.WriteAsync(DashboardSeed.Batch());
        string[] Common(params string[] args) => [.. args, "--store", "sqlite:" + db, "--data-dir", dir];

        var (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(Common("appeal", "file", "--post", "sim:1", "--reason", "satire",
            "--on-behalf-of", "the author", "--actor", "ana"));
        Assert.True(rc == 0, stderr);
        var id = JsonDocument.Parse(stdout).RootElement.GetProperty("id").GetString()!;

        (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(Common("appeal", "review", "--id", id, "--outcome", "reverse", "--label", "none", "--actor", "bob"));
        Assert.True(rc == 0, stderr);
        Assert.Equal("reversed", JsonDocument.Parse(stdout).RootElement.GetProperty("status").GetString());
        (rc, stdout, _) = await EndToEndTests.RunCliAsync(Common("appeal", "review", "--id", id, "--outcome", "uphold", "--actor", "carol"));
        Assert.Equal(1, rc);
        Assert.Contains("already reviewed", stdout, StringComparison.Ordinal);
        (rc, stdout, _) = await EndToEndTests.RunCliAsync(Common("appeal", "list", "--status", "reversed"));
        Assert.Equal(0, rc);
        Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());
        (rc, _, _) = await EndToEndTests.RunCliAsync(Common("appeal", "withdraw"));
        Assert.Equal(2, rc);

        (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(Common("rotate-key", "--actor", "root"));
        Assert.True(rc == 0, stderr);
        Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetProperty("new_version").GetInt32());
        (rc, stdout, _) = await EndToEndTests.RunCliAsync(Common("reidentify", "--pseudonym", "p_0123456789abcdef", "--reason", "case 4", "--actor", "root"));
        Assert.Equal(1, rc);
        Assert.False(JsonDocument.Parse(stdout).RootElement.GetProperty("found").GetBoolean());

        await using var store2 = await SqliteStore.OpenAsync(db);
        var feedback = Assert.Single(await store2.GetFeedbackAsync());
        Assert.Equal(("sim:1", Labels.None, "bob"), (feedback.PostId, feedback.Label, feedback.Actor));
        await using var sg = new SqliteSafeguardStore(db);
        var audit = await new SqliteAuditLog(sg).ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.AppealFiled && e.Actor == "ana");
        Assert.Contains(audit, e => e.Action == AuditActions.AppealReviewed && e.Actor == "bob" && e.Target == id);
        Assert.Contains(audit, e => e.Action == AuditActions.KeyRotation && e.Actor == "root");
        Assert.Contains(audit, e => e.Action == AuditActions.Reidentify && e.Actor == "root" && e.Target == "p_0123456789abcdef");
    }
}
