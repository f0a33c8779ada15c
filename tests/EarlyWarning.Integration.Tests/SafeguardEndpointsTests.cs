using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>
/// Issue 9's remaining endpoints over HTTP, on a real SQLite store with its safeguard tables: appeals (file, list,
/// review; a reversal becomes training feedback), admin-only re-identification and key rotation, and dead letters
/// sealed at rest but readable by analysts. Every audited action is checked in the hash-chained audit log.
/// </summary>
public sealed class SafeguardEndpointsTests : IAsyncLifetime
{
    private const string ViewerKey = "k-viewer-0123456789";
    private const string AnalystKey = "k-analyst-a-0123456";
    private const string Analyst2Key = "k-analyst-b-0123456";
    private const string AdminKey = "k-admin-01234567890";
    private static readonly string[] Originals = ["u:4711", "kyaw_news7"];

    private readonly string _dir = TestPaths.NewTempDir("ew-sg-http");
    private SqliteStore _store = null!;
    private SqliteSafeguardStore _safeguards = null!;
    private SqliteAuditLog _audit = null!;
    private PseudonymKeyRing _keys = null!;
    private AppealsService _appeals = null!;
    private DeadLetterCipher _cipher = null!;
    private DashboardServer _server = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private string Db => Path.Combine(_dir, "earlywarning.db");

    public async Task InitializeAsync()
    {
        _store = await SqliteStore.OpenAsync(Db);
        await _store.WriteAsync(DashboardSeed.Batch());
        _safeguards = new SqliteSafeguardStore(Db);
        _audit = new SqliteAuditLog(_safeguards);
        _keys = new PseudonymKeyRing(_dir);
        _appeals = new AppealsService(_store, _safeguards, _audit);
        var reidentification = new ReidentificationService(_safeguards, _keys, _audit, enabled: true);
        await reidentification.RecordAsync(Originals);
        _cipher = new DeadLetterCipher(_keys);
        _server = await DashboardServer.StartAsync(new DashboardOptions
        {
            Port = 0,
            ApiKeys =
            [
                new(ViewerKey, "viewer1", DashboardRole.Viewer), new(AnalystKey, "ana", DashboardRole.Analyst),
                new(Analyst2Key, "bob", DashboardRole.Analyst), new(AdminKey, "root", DashboardRole.Admin),
            ],
            Audit = _audit.DashboardSink(TextWriter.Null),
            Safeguards = new SafeguardServices
            {
                Audit = _audit, Appeals = _appeals, Reidentification = reidentification, Keys = _keys, DeadLetters = _cipher,
            },
        }, _store, new DashboardFakeLive(), CancellationToken.None);
        _http.BaseAddress = _server.Address;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _safeguards.DisposeAsync();
        await _store.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Json)> Send(HttpMethod method, string path, string? key, object? body = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (key is not null) req.Headers.Add("X-Api-Key", key);
        if (body is not null) req.Content = JsonContent.Create(body);
        else if (method == HttpMethod.Post) req.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var res = await _http.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task An_appeal_is_filed_reviewed_by_another_analyst_and_a_reversal_becomes_training_feedback_all_audited()
    {
        var (filed, appeal) = await Send(HttpMethod.Post, "/api/appeals", AnalystKey,
            new { post_id = "sim:1", reason = "quoted to condemn it", on_behalf_of = "partner NGO for the author" });
        Assert.Equal(HttpStatusCode.Created, filed);
        var id = appeal.GetProperty("id").GetString()!;
        Assert.Equal("open", appeal.GetProperty("status").GetString());
        Assert.Equal(Labels.Hate, appeal.GetProperty("original_label").GetString());
        Assert.Equal("ana", appeal.GetProperty("filed_by").GetString());

        var (listed, list) = await Send(HttpMethod.Get, "/api/appeals?status=open", AnalystKey);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(id, Assert.Single(list.GetProperty("appeals").EnumerateArray()).GetProperty("id").GetString());

        // The analyst who filed it may not review it (refused and audited); another analyst reverses it.
        var (self, _) = await Send(HttpMethod.Post, $"/api/appeals/{id}/review", AnalystKey, new { outcome = "reverse" });
        Assert.Equal(HttpStatusCode.Forbidden, self);
        var (reviewed, result) = await Send(HttpMethod.Post, $"/api/appeals/{id}/review", Analyst2Key,
            new { outcome = "reverse", label = "none", note = "context shows condemnation" });
        Assert.Equal(HttpStatusCode.OK, reviewed);
        Assert.Equal("reversed", result.GetProperty("status").GetString());
        Assert.Equal("none", result.GetProperty("corrected_label").GetString());
        Assert.Equal("bob", result.GetProperty("reviewer").GetString());
        var (again, _) = await Send(HttpMethod.Post, $"/api/appeals/{id}/review", AdminKey, new { outcome = "uphold" });
        Assert.Equal(HttpStatusCode.Conflict, again);

        // The reversal is recorded as feedback (the path analyst feedback takes into training) and exported for train.
        var feedback = Assert.Single(await _store.GetFeedbackAsync());
        Assert.Equal(("sim:1", Labels.None, "bob"), (feedback.PostId, feedback.Label, feedback.Actor));
        Assert.Contains(id, feedback.Note, StringComparison.Ordinal);
        var training = Assert.Single(await _appeals.ExportTrainingFeedbackAsync());
        Assert.Equal(("sim:1", Labels.None), (training.PostId, training.Label));
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/api/appeals?status=reversed", ViewerKey)).Status);
        var (_, reversed) = await Send(HttpMethod.Get, "/api/appeals?status=reversed", AdminKey);
        Assert.Equal(id, Assert.Single(reversed.GetProperty("appeals").EnumerateArray()).GetProperty("id").GetString());

        var audit = await _audit.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.AppealFiled && e.Actor == "ana" && e.Target == "sim:1");
        Assert.Contains(audit, e => e.Action == AuditActions.AppealDenied && e.Actor == "ana" && e.Target == id);
        Assert.Contains(audit, e => e.Action == AuditActions.AppealReviewed && e.Actor == "bob" && e.Target == id);
        Assert.True((await _audit.VerifyAsync()).Valid);
    }

    [Fact]
    public async Task Bad_appeal_requests_get_reasons_and_change_nothing()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/api/appeals", AnalystKey, new { post_id = "sim:1", on_behalf_of = "x" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/api/appeals", AnalystKey, new { post_id = "sim:1", reason = "r" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/api/appeals", AnalystKey,
            new { post_id = "sim:1", reason = new string('r', AppealsService.MaxTextLength + 1), on_behalf_of = "x" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, "/api/appeals", AnalystKey, new { post_id = "sim:999", reason = "r", on_behalf_of = "x" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, "/api/appeals/ap_nope/review", Analyst2Key, new { outcome = "uphold" })).Status);
        var (_, appeal) = await Send(HttpMethod.Post, "/api/appeals", AnalystKey, new { post_id = "sim:1", reason = "r", on_behalf_of = "x" });
        var id = appeal.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/api/appeals/{id}/review", Analyst2Key, new { outcome = "maybe" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/api/appeals/{id}/review", Analyst2Key, new { outcome = "reverse", label = "spam" })).Status);
        // A "reversal" to the original label is no reversal.
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, $"/api/appeals/{id}/review", Analyst2Key, new { outcome = "reverse", label = "hate" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/api/appeals?status=pending", AnalystKey)).Status);
        Assert.Empty(await _store.GetFeedbackAsync());
        Assert.Equal("open", (await _appeals.ListAsync()).Single().Status);
    }

    [Fact]
    public async Task Only_an_admin_reidentifies_and_every_attempt_is_audited_without_the_original()
    {
        var pseudonym = new Pseudonymizer(_keys.CurrentKey).Pseudonymize("u:4711");
        var (ok, found) = await Send(HttpMethod.Post, "/api/admin/reidentify", AdminKey, new { pseudonym, reason = "court order 7" });
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.True(found.GetProperty("found").GetBoolean());
        Assert.Equal("u:4711", found.GetProperty("original").GetString());
        var (_, unknown) = await Send(HttpMethod.Post, "/api/admin/reidentify", AdminKey, new { pseudonym = "p_0123456789abcdef", reason = "typo" });
        Assert.False(unknown.GetProperty("found").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/api/admin/reidentify", AdminKey, new { pseudonym })).Status);

        var (analyst, denied) = await Send(HttpMethod.Post, "/api/admin/reidentify", AnalystKey, new { pseudonym, reason = "curious" });
        Assert.Equal(HttpStatusCode.Forbidden, analyst);
        Assert.False(denied.TryGetProperty("original", out _));
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/api/admin/reidentify", ViewerKey, new { pseudonym, reason = "curious" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Post, "/api/admin/reidentify", null, new { pseudonym, reason = "x" })).Status);

        var audit = await _audit.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.Reidentify && e.Actor == "root" && e.Target == pseudonym && e.Note!.Contains("court order 7", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Action == AuditActions.Reidentify && e.Actor == "root" && e.Target == "p_0123456789abcdef");
        Assert.Contains(audit, e => e.Action == AuditActions.ReidentifyDenied && e.Actor == "ana" && e.Target == pseudonym);
        Assert.Contains(audit, e => e.Action == AuditActions.ReidentifyDenied && e.Actor == "viewer1" && e.Target == pseudonym);
        Assert.DoesNotContain(audit, e => (e.Target + e.Note).Contains("u:4711", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_an_admin_rotates_the_key_it_is_audited_and_old_pseudonyms_stay_reidentifiable()
    {
        var oldPseudonym = new Pseudonymizer(_keys.CurrentKey).Pseudonymize("kyaw_news7");
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/api/admin/keys/rotate", AnalystKey)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/api/admin/keys", AnalystKey)).Status);
        Assert.Equal(1, _keys.CurrentVersion);

        var (status, rotated) = await Send(HttpMethod.Post, "/api/admin/keys/rotate", AdminKey);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, rotated.GetProperty("old_version").GetInt32());
        Assert.Equal(2, rotated.GetProperty("new_version").GetInt32());
        Assert.Equal(Originals.Length, rotated.GetProperty("mapped_forward").GetInt32());
        Assert.Equal(2, _keys.CurrentVersion);
        var (_, keys) = await Send(HttpMethod.Get, "/api/admin/keys", AdminKey);
        Assert.Equal([1, 2], keys.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));

        var (_, found) = await Send(HttpMethod.Post, "/api/admin/reidentify", AdminKey, new { pseudonym = oldPseudonym, reason = "case 3" });
        Assert.Equal("kyaw_news7", found.GetProperty("original").GetString());

        var audit = await _audit.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.KeyRotation && e.Actor == "root" && e.Note!.Contains("v1 -> v2", StringComparison.Ordinal));
        Assert.Equal(2, audit.Count(e => e.Action == AuditActions.KeyRotation + "_denied" && e.Actor == "ana"));
    }

    [Fact]
    public async Task Only_an_admin_exports_the_audit_log_as_verifiable_json_lines_and_the_export_is_audited()
    {
        // Something to export: a refused and an allowed re-identification.
        await Send(HttpMethod.Post, "/api/admin/reidentify", AnalystKey, new { pseudonym = "p_0123456789abcdef", reason = "curious" });
        await Send(HttpMethod.Post, "/api/admin/reidentify", AdminKey, new { pseudonym = "p_0123456789abcdef", reason = "case 9" });
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Get, "/api/admin/audit", null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/api/admin/audit", AnalystKey)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/api/admin/audit?from=yesterday", AdminKey)).Status);

        using var req = new HttpRequestMessage(HttpMethod.Get, "/api/admin/audit");
        req.Headers.Add("X-Api-Key", AdminKey);
        using var res = await _http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("intact", res.Headers.GetValues("X-Audit-Chain").Single());
        var lines = (await res.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var stored = await _audit.ReadAsync();
        // Every entry before the export, in order, each a JSON object with its hash; the copy verifies offline.
        Assert.Equal(stored.Count - 1, lines.Length);
        var actions = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("action").GetString()).ToList();
        Assert.Contains(AuditActions.ReidentifyDenied, actions);
        Assert.Contains(AuditActions.Reidentify, actions);
        Assert.True(AuditJsonl.Verify(new StringReader(string.Join("\n", lines))).Valid);
        Assert.Contains(stored, e => e.Action == AuditActions.AuditExport && e.Actor == "root");
        Assert.Contains(stored, e => e.Action == AuditActions.AuditExport + "_denied" && e.Actor == "ana");
    }

    [Fact]
    public async Task Sealed_dead_letters_are_opened_for_analysts_only_and_the_view_is_audited()
    {
        var original = Encoding.UTF8.GetBytes("{\"id\":\"x\",\"author\":{\"id\":\"u:31337\",\"handle\":\"raw_handle_9\"}, broken");
        var batch = new StoreBatch();
        batch.DeadLetters.Add(new DeadLetter(new SourcePosition("replay:sealed.jsonl", 3), DeadLetterReasons.InvalidJson, _cipher.Seal(original), DashboardSeed.T0));
        await _store.WriteAsync(batch);

        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/api/deadletters", ViewerKey)).Status);
        var (status, json) = await Send(HttpMethod.Get, "/api/deadletters", AnalystKey);
        Assert.Equal(HttpStatusCode.OK, status);
        var letter = json.GetProperty("dead_letters").EnumerateArray().Single(d => d.GetProperty("source").GetString() == "replay:sealed.jsonl");
        Assert.True(letter.GetProperty("encrypted").GetBoolean());
        Assert.Equal(original, letter.GetProperty("bytes").GetBytesFromBase64());
        Assert.Equal(original.Length, letter.GetProperty("size").GetInt32());

        // What the store holds is ciphertext.
        var stored = (await _store.GetDeadLettersAsync(10)).Single(d => d.Source == "replay:sealed.jsonl");
        Assert.True(DeadLetterCipher.IsSealed(stored.Bytes));
        Assert.True(stored.Bytes.AsSpan().IndexOf("u:31337"u8) < 0);

        var audit = await _audit.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.ViewDeadLetters && e.Actor == "ana");
        Assert.DoesNotContain(audit, e => e.Action == AuditActions.ViewDeadLetters && e.Actor == "viewer1");
    }
}
