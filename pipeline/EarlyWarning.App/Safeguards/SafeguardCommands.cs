using System.Text.Json;
using EarlyWarning.App.Http;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>
/// The command-line side of the safeguard endpoints, on the SQLite store and the key ring in the data folder:
/// <c>appeal file|list|review</c>, <c>reidentify</c>, <c>rotate-key</c>. Whoever can read the data folder holds the keys,
/// so the command line acts as the admin role; the actor is <c>--actor NAME</c> or <c>cli:USER</c>, and every action is
/// audited exactly as over HTTP. Output is JSON.
/// </summary>
public static class SafeguardCommands
{
    public static async Task<int> AppealAsync(string sub, Func<string, string?> option, TextWriter @out, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(@out);
        if (sub is not ("file" or "list" or "review")) throw new UsageException("appeal takes: file, list or review");
        await using var stores = await OpenAsync(option, ct).ConfigureAwait(false);
        var appeals = new AppealsService(stores.Store, stores.Safeguards, stores.Audit);
        switch (sub)
        {
            case "file":
                var filed = await appeals.FileAsync(Required(option, "post"), Required(option, "reason"), Required(option, "on-behalf-of"),
                    Actor(option), DashboardRole.Admin, ct).ConfigureAwait(false);
                Write(@out, filed);
                return 0;
            case "list":
                Write(@out, await appeals.ListAsync(option("status"), ct).ConfigureAwait(false));
                return 0;
            default:
                var outcome = Required(option, "outcome") switch
                {
                    "uphold" => AppealOutcome.Uphold,
                    "reverse" => AppealOutcome.Reverse,
                    var other => throw new UsageException($"--outcome takes uphold or reverse, not '{other}'"),
                };
                try
                {
                    var reviewed = await appeals.ReviewAsync(Required(option, "id"), outcome, Actor(option), DashboardRole.Admin,
                        option("label"), option("note"), ct).ConfigureAwait(false);
                    Write(@out, reviewed);
                    return 0;
                }
                catch (InvalidOperationException ex)
                {
                    // Already reviewed: a state conflict, reported like the HTTP 409.
                    Write(@out, new { error = ex.Message });
                    return 1;
                }
        }
    }

    public static async Task<int> ReidentifyAsync(Func<string, string?> option, TextWriter @out, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(@out);
        var pseudonym = Required(option, "pseudonym");
        var reason = Required(option, "reason");
        await using var stores = await OpenAsync(option, ct).ConfigureAwait(false);
        var service = new ReidentificationService(stores.Safeguards, stores.Keys, stores.Audit, enabled: true);
        var original = await service.ReidentifyAsync(pseudonym, Actor(option), DashboardRole.Admin, reason, ct).ConfigureAwait(false);
        Write(@out, new { pseudonym, found = original is not null, original });
        return original is null ? 1 : 0;
    }

    public static async Task<int> RotateKeyAsync(Func<string, string?> option, TextWriter @out, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(@out);
        await using var stores = await OpenAsync(option, ct).ConfigureAwait(false);
        var service = new ReidentificationService(stores.Safeguards, stores.Keys, stores.Audit, enabled: true);
        var r = await service.RotateAsync(Actor(option), DashboardRole.Admin, ct).ConfigureAwait(false);
        Write(@out, new
        {
            old_version = r.OldVersion,
            new_version = r.NewVersion,
            mapped_forward = r.MappedForward,
            note = "a running pipeline keeps its key until it is started again",
        });
        return 0;
    }

    /// <summary>
    /// <c>audit-export [--from TIME] [--to TIME]</c>: the audit log as JSON lines on stdout (with each entry's hash, so
    /// the copy can be verified offline); the export itself is then recorded in the log.
    /// </summary>
    public static async Task<int> AuditExportAsync(Func<string, string?> option, TextWriter @out, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(@out);
        var from = Time(option, "from");
        var to = Time(option, "to");
        await using var stores = await OpenAsync(option, ct).ConfigureAwait(false);
        var verification = await stores.Audit.VerifyAsync(ct).ConfigureAwait(false);
        var n = await stores.Audit.ExportJsonlAsync(@out, from, to, ct).ConfigureAwait(false);
        await stores.Audit.AppendAsync(Actor(option), AuditActions.AuditExport, "audit_log",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{n} entries; chain {(verification.Valid ? "intact" : "BROKEN")}"), ct).ConfigureAwait(false);
        return verification.Valid ? 0 : 1;
    }

    private static DateTimeOffset? Time(Func<string, string?> option, string name) =>
        option(name) is not { } s ? null
        : DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new UsageException($"--{name} takes an ISO 8601 time, not '{s}'");

    private static string Actor(Func<string, string?> option) => option("actor") ?? "cli:" + Environment.UserName;

    private static string Required(Func<string, string?> option, string name) =>
        option(name) ?? throw new UsageException($"--{name} is required");

    private static void Write<T>(TextWriter @out, T value) => @out.WriteLine(JsonSerializer.Serialize(value, DashboardApi.Json));

    private static async Task<Stores> OpenAsync(Func<string, string?> option, CancellationToken ct)
    {
        var dataDir = Path.GetFullPath(option("data-dir") ?? "data");
        var spec = option("store") ?? "sqlite:" + Path.Combine(dataDir, "earlywarning.db");
        if (!spec.StartsWith("sqlite:", StringComparison.Ordinal)) throw new UsageException($"the safeguard commands use a sqlite:PATH store, not '{spec}'");
        var path = Path.GetFullPath(spec[7..]);
        if (!File.Exists(path)) throw new IOException($"no store at '{path}'");
        var store = new SqliteStore(path);
        await store.InitializeAsync(ct).ConfigureAwait(false);
        var safeguards = new SqliteSafeguardStore(path);
        return new Stores(store, safeguards, new SqliteAuditLog(safeguards), new PseudonymKeyRing(dataDir));
    }

    private sealed record Stores(SqliteStore Store, SqliteSafeguardStore Safeguards, SqliteAuditLog Audit, PseudonymKeyRing Keys) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Safeguards.DisposeAsync().ConfigureAwait(false);
            await Store.DisposeAsync().ConfigureAwait(false);
        }
    }
}
