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

        // The log leaves as JSON lines that verify offline; the export is the log's next entry.
        (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(Common("audit-export", "--actor", "root"));
        Assert.True(rc == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(audit.Count, lines.Length);
        Assert.True(AuditJsonl.Verify(new StringReader(stdout)).Valid);
        (rc, _, _) = await EndToEndTests.RunCliAsync(Common("audit-export", "--from", "not-a-time"));
        Assert.Equal(2, rc);
        Assert.Contains(await new SqliteAuditLog(sg).ReadAsync(), e => e.Action == AuditActions.AuditExport && e.Actor == "root");
    }

    [Fact]
    public async Task A_reidentifiable_run_lets_an_admin_reidentify_its_pseudonyms_and_a_default_run_does_not()
    {
        const string rawAuthor = "u:reid-author-77";
        const string rawHandle = "reid_handle_77";
        async Task<(string Db, string Dir)> Run(bool reidentifiable)
        {
            var dir = TestPaths.NewTempDir("ew-reid");
            var replay = Path.Combine(dir, "in.jsonl");
            File.WriteAllLines(replay, Enumerable.Range(1, 20).Select(i =>
                "{\"id\":\"t:" + i + "\",\"created_at\":\"2026-11-08T06:" + i.ToString("00", System.Globalization.CultureInfo.InvariantCulture) +
                ":00Z\",\"author\":{\"id\":\"" + (i % 2 == 0 ? rawAuthor : "u:other") + "\",\"handle\":\"" + rawHandle +
                "\"},\"text\":\"polling station " + i + " is open\",\"geo\":{\"country\":\"KE\",\"region\":\"Nairobi\"}}"));
            var db = Path.Combine(dir, "ew.db");
            string[] args = ["run", "--source", "replay:" + replay, "--until-end", "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", dir];
            var (rc, _, stderr) = await EndToEndTests.RunCliAsync(reidentifiable ? [.. args, "--reidentifiable"] : args);
            Assert.True(rc == 0, stderr);
            return (db, dir);
        }

        foreach (var reidentifiable in new[] { true, false })
        {
            var (db, dir) = await Run(reidentifiable);
            string pseudonym;
            await using (var store = await SqliteStore.OpenAsync(db)) pseudonym = (await store.GetPostAsync("t:2"))!.Author;
            Assert.NotEqual(rawAuthor, pseudonym);
            // The map is encrypted: the raw id and handle appear nowhere in the database files either way.
            foreach (var f in new[] { db, db + "-wal", db + "-journal" }.Where(File.Exists))
            {
                var bytes = await File.ReadAllBytesAsync(f);
                Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(rawAuthor)));
                Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(rawHandle)));
            }
            var (rc, stdout, _) = await EndToEndTests.RunCliAsync("reidentify", "--pseudonym", pseudonym, "--reason", "court order 12",
                "--actor", "root", "--store", "sqlite:" + db, "--data-dir", dir);
            var answer = JsonDocument.Parse(stdout).RootElement;
            if (reidentifiable)
            {
                Assert.Equal(0, rc);
                Assert.True(answer.GetProperty("found").GetBoolean());
                Assert.Contains(rawAuthor, stdout, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(1, rc);
                Assert.False(answer.GetProperty("found").GetBoolean());
            }
            await using var sg = new SqliteSafeguardStore(db);
            Assert.Contains(await new SqliteAuditLog(sg).ReadAsync(), e => e.Action == AuditActions.Reidentify && e.Actor == "root" && e.Target == pseudonym);
        }
    }
}
