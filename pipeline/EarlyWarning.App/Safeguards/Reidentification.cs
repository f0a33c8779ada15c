using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Posts;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>What a key rotation did: the new version and how many known pseudonyms were mapped forward.</summary>
public sealed record RotationResult(int OldVersion, int NewVersion, int MappedForward);

/// <summary>
/// The keyed mapping pseudonym → original account id, for the admin role only (DESIGN.md safeguards). Originals are
/// stored only when re-identification is enabled, encrypted with AES-256-GCM under a key derived from the pseudonym key
/// of their version (the pseudonym and version are the associated data, so an entry cannot be moved to another
/// pseudonym). Every attempt, allowed or not, is in the audit log.
/// </summary>
public sealed class ReidentificationService
{
    private readonly SqliteSafeguardStore _store;
    private readonly PseudonymKeyRing _keys;
    private readonly IAuditLog _audit;
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);

    public ReidentificationService(SqliteSafeguardStore store, PseudonymKeyRing keys, IAuditLog audit, bool enabled)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        Enabled = enabled;
    }

    /// <summary>When false (the default of <c>run</c>), nothing is collected or stored.</summary>
    public bool Enabled { get; }

    /// <summary>
    /// Collects a post's account identifiers (author id, handle, mentions) <em>before</em> pseudonymisation; call it in
    /// the decode stage, then <see cref="FlushAsync"/> with each store batch. No-op when disabled.
    /// </summary>
    public void Collect(Post rawPost)
    {
        ArgumentNullException.ThrowIfNull(rawPost);
        if (!Enabled) return;
        _pending.TryAdd(rawPost.AuthorId, 0);
        if (rawPost.AuthorHandle is { Length: > 0 } h) _pending.TryAdd(h, 0);
        foreach (var m in rawPost.Mentions) _pending.TryAdd(m, 0);
        if (rawPost.ReportedBy is { Length: > 0 } r) _pending.TryAdd(r, 0);
    }

    /// <summary>Writes what <see cref="Collect"/> gathered; returns the number of new map entries.</summary>
    public async Task<int> FlushAsync(CancellationToken ct = default)
    {
        if (!Enabled || _pending.IsEmpty) return 0;
        var ids = _pending.Keys.ToList();
        foreach (var id in ids) _pending.TryRemove(id, out _);
        return await RecordAsync(ids, ct).ConfigureAwait(false);
    }

    /// <summary>Stores the encrypted originals of <paramref name="originalIds"/> under the current key version. No-op when disabled.</summary>
    public Task<int> RecordAsync(IEnumerable<string> originalIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(originalIds);
        if (!Enabled) return Task.FromResult(0);
        var version = _keys.CurrentVersion;
        var pseudonymizer = _keys.PseudonymizerFor(version);
        var mapKey = _keys.MapKey(version);
        try
        {
            var entries = originalIds.Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal)
                .Select(id => Encrypt(mapKey, version, pseudonymizer.Pseudonymize(id), id)).ToList();
            return _store.PutPseudonymsAsync(entries, ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(mapKey);
        }
    }

    /// <summary>
    /// The original id behind <paramref name="pseudonym"/> (made under any key version), or null when unknown. Only the
    /// admin role may ask; a refusal is audited and throws <see cref="UnauthorizedAccessException"/>.
    /// </summary>
    public async Task<string?> ReidentifyAsync(string pseudonym, string actor, DashboardRole role, string reason, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pseudonym);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (role != DashboardRole.Admin)
        {
            await _audit.AppendAsync(actor, AuditActions.ReidentifyDenied, pseudonym, $"role {role}; reason given: {reason}", ct).ConfigureAwait(false);
            throw new UnauthorizedAccessException("re-identification is for the admin role only");
        }
        string? original = null;
        int? foundIn = null;
        foreach (var version in _keys.Versions().Reverse())
        {
            var e = await _store.GetPseudonymAsync(version, pseudonym, ct).ConfigureAwait(false);
            if (e is null) continue;
            var key = _keys.MapKey(version);
            try { original = Decrypt(key, e); }
            finally { CryptographicOperations.ZeroMemory(key); }
            foundIn = version;
            break;
        }
        var note = (Enabled ? "" : "re-identification disabled; ") +
                   (foundIn is { } v ? $"found under key v{v}" : "not found") + "; reason: " + reason;
        await _audit.AppendAsync(actor, AuditActions.Reidentify, pseudonym, note, ct).ConfigureAwait(false);
        return original;
    }

    /// <summary>
    /// Rotates the key: a new version becomes current, and every pseudonym of the old version whose original is known
    /// (the map) is mapped forward to its new pseudonym and re-encrypted under the new version. Pseudonyms without a map
    /// entry cannot be mapped (HMAC is one-way): that is the privacy price of keeping re-identification off.
    /// </summary>
    public async Task<RotationResult> RotateAsync(string actor, DashboardRole role, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (role != DashboardRole.Admin)
        {
            await _audit.AppendAsync(actor, AuditActions.KeyRotation + "_denied", "pseudonym.key", $"role {role}", ct).ConfigureAwait(false);
            throw new UnauthorizedAccessException("key rotation is for the admin role only");
        }
        var oldVersion = _keys.CurrentVersion;
        var known = await _store.GetPseudonymsAsync(oldVersion, ct).ConfigureAwait(false);
        var newVersion = _keys.Rotate();
        var oldKey = _keys.MapKey(oldVersion);
        var newKey = _keys.MapKey(newVersion);
        try
        {
            var pseudonymizer = _keys.PseudonymizerFor(newVersion);
            var forwards = new List<PseudonymForward>(known.Count);
            var reencrypted = new List<EncryptedPseudonym>(known.Count);
            foreach (var e in known)
            {
                var original = Decrypt(oldKey, e);
                var next = pseudonymizer.Pseudonymize(original);
                forwards.Add(new PseudonymForward(oldVersion, e.Pseudonym, newVersion, next));
                reencrypted.Add(Encrypt(newKey, newVersion, next, original));
            }
            await _store.PutRotationAsync(forwards, reencrypted, ct).ConfigureAwait(false);
            await _audit.AppendAsync(actor, AuditActions.KeyRotation, "pseudonym.key",
                $"v{oldVersion} -> v{newVersion}; {forwards.Count} pseudonyms mapped forward", ct).ConfigureAwait(false);
            return new RotationResult(oldVersion, newVersion, forwards.Count);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(oldKey);
            CryptographicOperations.ZeroMemory(newKey);
        }
    }

    /// <summary>The newest pseudonym for one made under <paramref name="version"/>, or null when it was not mapped forward.</summary>
    public async Task<string?> MapForwardAsync(int version, string pseudonym, CancellationToken ct = default) =>
        (await _store.ForwardAsync(version, pseudonym, ct).ConfigureAwait(false))?.NewPseudonym;

    private static byte[] Aad(int version, string pseudonym) => Encoding.UTF8.GetBytes("v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture) + "|" + pseudonym);

    private static EncryptedPseudonym Encrypt(byte[] key, int version, string pseudonym, string original)
    {
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var plain = Encoding.UTF8.GetBytes(original);
        var cipher = new byte[plain.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using var aes = new AesGcm(key, tag.Length);
        aes.Encrypt(nonce, plain, cipher, tag, Aad(version, pseudonym));
        return new EncryptedPseudonym(version, pseudonym, nonce, cipher, tag);
    }

    private static string Decrypt(byte[] key, EncryptedPseudonym e)
    {
        var plain = new byte[e.Ciphertext.Length];
        using var aes = new AesGcm(key, e.Tag.Length);
        // A changed ciphertext, tag or pseudonym fails authentication (AuthenticationTagMismatchException).
        aes.Decrypt(e.Nonce, e.Ciphertext, e.Tag, plain, Aad(e.KeyVersion, e.Pseudonym));
        return Encoding.UTF8.GetString(plain);
    }
}
