using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Engine;

/// <summary>
/// Severity guided by the Rabat Plan of Action threshold factors the pipeline can measure: content (hate,
/// dehumanisation and incitement shares of the evidence), speaker reach (largest follower count), extent (posts and
/// distinct accounts) and imminence (incitement share). Context, speaker intent and the form of the speech are
/// human judgements; every explanation says they are left for review.
/// </summary>
public static class Rabat
{
    /// <summary>What was measured for one signal.</summary>
    public readonly record struct Factors(double HateShare, double DehumanisationShare, double IncitementShare, int MaxFollowers, int Accounts, double Posts);

    /// <summary>Sentence tail naming the factors left for human review.</summary>
    public const string ReviewNote = "context, intent and the speaker's role need human review";

    /// <summary>Weighted factor score in [0, 1].</summary>
    public static double Score(Factors f)
    {
        var content = Math.Max(0.5 * f.HateShare, Math.Max(0.8 * f.DehumanisationShare, f.IncitementShare));
        var reach = f.MaxFollowers >= 100_000 ? 1 : f.MaxFollowers >= 10_000 ? 0.7 : f.MaxFollowers >= 1_000 ? 0.4 : 0.1;
        var extent = f.Accounts >= 50 || f.Posts >= 200 ? 1 : f.Accounts >= 20 || f.Posts >= 60 ? 0.7 : f.Accounts >= 8 ? 0.4 : 0.2;
        return 0.35 * content + 0.2 * reach + 0.25 * extent + 0.2 * f.IncitementShare;
    }

    public static Severity Level(double score) =>
        score >= 0.6 ? Severity.Critical : score >= 0.45 ? Severity.High : score >= 0.3 ? Severity.Medium : Severity.Low;

    public static Severity Rate(Factors f) => Level(Score(f));
}
