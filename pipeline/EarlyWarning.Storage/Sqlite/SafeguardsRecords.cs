namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// One entry of the safeguards audit log as stored: who did what to which object, and the hash chain that makes
/// tampering detectable (<see cref="Hash"/> = SHA-256 over <see cref="PrevHash"/> and the entry's fields).
/// </summary>
public sealed record AuditRecord(long Seq, DateTimeOffset At, string Actor, string Action, string Target, string? Note,
    string PrevHash, string Hash);

/// <summary>Result of checking the audit log's hash chain from its first entry to its head.</summary>
/// <param name="Valid">True when every entry links to the one before and its hash matches its content.</param>
/// <param name="Entries">Entries checked.</param>
/// <param name="FirstBadSeq">Sequence number of the first entry that fails, or null.</param>
/// <param name="Problem">What failed there, or null.</param>
/// <param name="HeadHash">Hash of the last entry (anchor it elsewhere to detect truncation of the tail).</param>
public sealed record AuditVerification(bool Valid, long Entries, long? FirstBadSeq, string? Problem, string HeadHash);

/// <summary>A pseudonym's original identifier, encrypted (AES-GCM) under a key derived from one pseudonym-key version.</summary>
public sealed record EncryptedPseudonym(int KeyVersion, string Pseudonym, byte[] Nonce, byte[] Ciphertext, byte[] Tag);

/// <summary>After a key rotation: the pseudonym an account had under an old key, and the one it has under the new key.</summary>
public sealed record PseudonymForward(int OldVersion, string OldPseudonym, int NewVersion, string NewPseudonym);

/// <summary>Appeal states: filed and waiting, or reviewed with the decision upheld or reversed.</summary>
public static class AppealStatus
{
    public const string Open = "open";
    public const string Upheld = "upheld";
    public const string Reversed = "reversed";
}

/// <summary>A contested decision (DESIGN.md safeguards: remedy).</summary>
public sealed record AppealRecord(
    string Id, string PostId, string Reason, string OnBehalfOf, string FiledBy, DateTimeOffset FiledAt,
    string? OriginalLabel, string Status, string? Reviewer, DateTimeOffset? ReviewedAt, string? CorrectedLabel, string? ReviewNote);

/// <summary>One row of a count table in the transparency report: the grouping keys and the count.</summary>
public sealed record CountRow(string Key, long Count);

/// <summary>Analyst review of flagged decisions in one group (a language or a target group).</summary>
/// <param name="Key">The group.</param>
/// <param name="FeedbackPosts">Posts in the group with analyst feedback (flagged or not).</param>
/// <param name="ReviewedFlagged">Flagged decisions with analyst feedback.</param>
/// <param name="Upheld">Of those, how many the analyst's latest label confirms as not <c>none</c>.</param>
public sealed record PrecisionRow(string Key, long FeedbackPosts, long ReviewedFlagged, long Upheld)
{
    /// <summary>Share of reviewed flagged decisions upheld; null when none were reviewed.</summary>
    public double? Precision => ReviewedFlagged == 0 ? null : (double)Upheld / ReviewedFlagged;
}

/// <summary>
/// Everything the transparency report states for a period, read in one snapshot. Alerts are those whose window
/// starts in [From, To); posts and decisions those created in [From, To) (event time); actions, feedback and appeals
/// are those about these alerts and posts, whenever they were taken.
/// </summary>
public sealed record TransparencyData
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public long Posts { get; init; }
    public long FlaggedPosts { get; init; }
    public long Alerts { get; init; }
    public IReadOnlyList<CountRow> AlertsByKind { get; init; } = [];
    public IReadOnlyList<CountRow> AlertsByRegion { get; init; } = [];
    public IReadOnlyList<CountRow> AlertsBySeverity { get; init; } = [];
    public IReadOnlyList<CountRow> AlertsByStatus { get; init; } = [];
    public IReadOnlyList<CountRow> Actions { get; init; } = [];
    public long FeedbackEntries { get; init; }
    public PrecisionRow Overall { get; init; } = new("all", 0, 0, 0);
    public IReadOnlyList<PrecisionRow> PrecisionByLanguage { get; init; } = [];
    public IReadOnlyList<PrecisionRow> PrecisionByTarget { get; init; } = [];
    public IReadOnlyList<CountRow> Appeals { get; init; } = [];
    public IReadOnlyList<CountRow> DecisionModels { get; init; } = [];
    public IReadOnlyList<CountRow> AlertModels { get; init; } = [];
}
