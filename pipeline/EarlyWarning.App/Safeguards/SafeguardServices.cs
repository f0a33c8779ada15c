namespace EarlyWarning.App.Safeguards;

/// <summary>
/// The safeguards the dashboard API exposes (appeals, re-identification, key rotation, dead-letter decryption). They
/// live beside the SQLite store; a member left null answers its endpoints with 503.
/// </summary>
public sealed class SafeguardServices
{
    /// <summary>The append-only audit log the services write to.</summary>
    public IAuditLog? Audit { get; init; }

    /// <summary>Contesting decisions (<c>/api/appeals</c>).</summary>
    public AppealsService? Appeals { get; init; }

    /// <summary>Re-identification and key rotation (<c>/api/admin/...</c>), admin only and audited.</summary>
    public ReidentificationService? Reidentification { get; init; }

    /// <summary>The versioned pseudonym keys (for <c>GET /api/admin/keys</c>).</summary>
    public PseudonymKeyRing? Keys { get; init; }

    /// <summary>Opens dead letters sealed by the pipeline for <c>/api/deadletters</c>.</summary>
    public DeadLetterCipher? DeadLetters { get; init; }
}
