using System.Security.Cryptography;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Safeguards;

/// <summary>The outcome of an appeal's review.</summary>
public enum AppealOutcome { Uphold, Reverse }

/// <summary>
/// Remedy (DESIGN.md safeguards): an analyst contests a decision on behalf of an affected person or partner; another
/// analyst reviews it and upholds or reverses it. Every review becomes analyst feedback (the store's feedback, which
/// flows into training and into the transparency report's precision); reversals are the training corrections.
/// Filing, reviewing and refusals are audited.
/// </summary>
public sealed class AppealsService(IPipelineStore store, SqliteSafeguardStore safeguards, IAuditLog audit, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Longest reason or note kept, in characters.</summary>
    public const int MaxTextLength = 4000;

    public async Task<AppealRecord> FileAsync(string postId, string reason, string onBehalfOf, string filedBy, DashboardRole role,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(postId);
        ArgumentException.ThrowIfNullOrWhiteSpace(filedBy);
        if (string.IsNullOrWhiteSpace(reason)) throw new ArgumentException("an appeal needs a reason", nameof(reason));
        if (string.IsNullOrWhiteSpace(onBehalfOf)) throw new ArgumentException("an appeal names on whose behalf it is filed", nameof(onBehalfOf));
        if (reason.Length > MaxTextLength) throw new ArgumentException($"the reason is longer than {MaxTextLength} characters", nameof(reason));
        await RequireAnalystAsync(filedBy, role, "file", postId, ct).ConfigureAwait(false);
        var decision = await safeguards.GetDecisionAsync(postId, ct).ConfigureAwait(false)
            ?? throw new ArgumentException($"no stored decision for post '{postId}' (unknown post, or expired by retention)", nameof(postId));
        var appeal = new AppealRecord("ap_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), postId, reason, onBehalfOf, filedBy,
            Truncate(_time.GetUtcNow()), decision.Label, AppealStatus.Open, null, null, null, null);
        await safeguards.InsertAppealAsync(appeal, ct).ConfigureAwait(false);
        await audit.AppendAsync(filedBy, AuditActions.AppealFiled, postId, $"{appeal.Id} on behalf of {onBehalfOf}", ct).ConfigureAwait(false);
        return appeal;
    }

    /// <summary>
    /// Reviews an open appeal. The reviewer must be an analyst or admin and not the analyst who filed it. A reversal
    /// records <paramref name="correctedLabel"/> (default <c>none</c>) as feedback; upholding records the original label.
    /// </summary>
    public async Task<AppealRecord> ReviewAsync(string appealId, AppealOutcome outcome, string reviewer, DashboardRole role,
        string? correctedLabel = null, string? note = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(appealId);
        ArgumentException.ThrowIfNullOrWhiteSpace(reviewer);
        if (note is { Length: > MaxTextLength }) throw new ArgumentException($"the note is longer than {MaxTextLength} characters", nameof(note));
        await RequireAnalystAsync(reviewer, role, "review", appealId, ct).ConfigureAwait(false);
        var appeal = (await safeguards.GetAppealsAsync(null, appealId, ct).ConfigureAwait(false)).SingleOrDefault()
            ?? throw new ArgumentException($"no appeal '{appealId}'", nameof(appealId));
        if (appeal.Status != AppealStatus.Open) throw new InvalidOperationException($"appeal '{appealId}' was already reviewed ({appeal.Status})");
        if (string.Equals(appeal.FiledBy, reviewer, StringComparison.Ordinal))
        {
            await audit.AppendAsync(reviewer, AuditActions.AppealDenied, appealId, "reviewer filed the appeal", ct).ConfigureAwait(false);
            throw new UnauthorizedAccessException("an appeal is reviewed by another analyst than the one who filed it");
        }
        string label;
        if (outcome == AppealOutcome.Reverse)
        {
            label = correctedLabel ?? Labels.None;
            if (!Labels.All.Contains(label)) throw new ArgumentException($"'{label}' is not a label ({string.Join(", ", Labels.All)})", nameof(correctedLabel));
            if (label == appeal.OriginalLabel) throw new ArgumentException($"a reversal needs a label other than the original '{label}'", nameof(correctedLabel));
        }
        else label = appeal.OriginalLabel ?? Labels.None;

        var status = outcome == AppealOutcome.Reverse ? AppealStatus.Reversed : AppealStatus.Upheld;
        var at = Truncate(_time.GetUtcNow());
        if (!await safeguards.CompleteAppealAsync(appealId, status, reviewer, at, outcome == AppealOutcome.Reverse ? label : null, note, ct).ConfigureAwait(false))
            throw new InvalidOperationException($"appeal '{appealId}' was reviewed by someone else meanwhile");
        await store.AddFeedbackAsync(new Feedback(appeal.PostId, label, reviewer, $"appeal {appealId} {status}" + (note is null ? "" : ": " + note), at), ct)
            .ConfigureAwait(false);
        await audit.AppendAsync(reviewer, AuditActions.AppealReviewed, appealId, $"{status} post {appeal.PostId} ({appeal.OriginalLabel} -> {label})", ct)
            .ConfigureAwait(false);
        return appeal with { Status = status, Reviewer = reviewer, ReviewedAt = at, CorrectedLabel = outcome == AppealOutcome.Reverse ? label : null, ReviewNote = note };
    }

    public Task<IReadOnlyList<AppealRecord>> ListAsync(string? status = null, CancellationToken ct = default) =>
        safeguards.GetAppealsAsync(status, null, ct);

    /// <summary>Reversed decisions as training feedback (post id, corrected label, reviewer), for <c>train</c>.</summary>
    public async Task<IReadOnlyList<Feedback>> ExportTrainingFeedbackAsync(CancellationToken ct = default)
    {
        var reversed = await safeguards.GetAppealsAsync(AppealStatus.Reversed, null, ct).ConfigureAwait(false);
        return reversed.Select(a => new Feedback(a.PostId, a.CorrectedLabel!, a.Reviewer!, $"appeal {a.Id} reversed {a.OriginalLabel}", a.ReviewedAt!.Value)).ToList();
    }

    private async Task RequireAnalystAsync(string actor, DashboardRole role, string what, string target, CancellationToken ct)
    {
        if (role >= DashboardRole.Analyst) return;
        await audit.AppendAsync(actor, AuditActions.AppealDenied, target, $"role {role} may not {what} appeals", ct).ConfigureAwait(false);
        throw new UnauthorizedAccessException($"only analysts and admins may {what} appeals");
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());
}
