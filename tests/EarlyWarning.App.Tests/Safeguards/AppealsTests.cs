using EarlyWarning.App.Http;
using EarlyWarning.App.Safeguards;
using EarlyWarning.Core.Posts;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App.Tests.Safeguards;

public sealed class AppealsTests
{
    private static async Task<(SqliteStore Store, SqliteSafeguardStore Sg, SqliteAuditLog Log, AppealsService Svc)> OpenAsync()
    {
        var (_, db) = SafeguardTestData.NewStorePath();
        var store = new SqliteStore(db);
        await store.InitializeAsync();
        var t = SafeguardTestData.T0;
        await SafeguardTestData.WriteAsync(store,
        [
            SafeguardTestData.Post("h1", t, "first", Labels.Hate, target: "women"),
            SafeguardTestData.Post("h2", t, "second", Labels.Hate, target: "women"),
            SafeguardTestData.Post("n1", t, "third", Labels.None),
        ]);
        var sg = new SqliteSafeguardStore(db);
        var log = new SqliteAuditLog(sg);
        return (store, sg, log, new AppealsService(store, sg, log));
    }

    [Fact]
    public async Task A_reversed_appeal_becomes_training_feedback_and_is_audited()
    {
        var (store, sg, log, svc) = await OpenAsync();
        await using var _a = store;
        await using var _b = sg;
        var appeal = await svc.FileAsync("h1", "satire, not hate", "partner NGO", "ana", DashboardRole.Analyst);
        Assert.Equal(AppealStatus.Open, appeal.Status);
        Assert.Equal(Labels.Hate, appeal.OriginalLabel);
        Assert.Single(await svc.ListAsync(AppealStatus.Open));

        var reviewed = await svc.ReviewAsync(appeal.Id, AppealOutcome.Reverse, "bob", DashboardRole.Analyst, Labels.None, "context shows satire");
        Assert.Equal(AppealStatus.Reversed, reviewed.Status);
        Assert.Empty(await svc.ListAsync(AppealStatus.Open));

        var feedback = await store.GetFeedbackAsync();
        var f = Assert.Single(feedback);
        Assert.Equal(("h1", Labels.None, "bob"), (f.PostId, f.Label, f.Actor));
        var training = Assert.Single(await svc.ExportTrainingFeedbackAsync());
        Assert.Equal(("h1", Labels.None), (training.PostId, training.Label));

        var audit = await log.ReadAsync();
        Assert.Contains(audit, e => e.Action == AuditActions.AppealFiled && e.Actor == "ana" && e.Target == "h1");
        Assert.Contains(audit, e => e.Action == AuditActions.AppealReviewed && e.Actor == "bob" && e.Target == appeal.Id);
        // A review is final.
        await Assert.ThrowsAsync<InvalidOperationException>(() => svc.ReviewAsync(appeal.Id, AppealOutcome.Uphold, "carol", DashboardRole.Admin));
    }

    [Fact]
    public async Task Upholding_records_the_original_label_and_is_not_a_training_correction()
    {
        var (store, sg, _, svc) = await OpenAsync();
        await using var _a = store;
        await using var _b = sg;
        var appeal = await svc.FileAsync("h2", "they say it is quoted", "the author", "ana", DashboardRole.Analyst);
        await svc.ReviewAsync(appeal.Id, AppealOutcome.Uphold, "bob", DashboardRole.Admin);
        var f = Assert.Single(await store.GetFeedbackAsync());
        Assert.Equal(Labels.Hate, f.Label);
        Assert.Empty(await svc.ExportTrainingFeedbackAsync());
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_reasons()
    {
        var (store, sg, log, svc) = await OpenAsync();
        await using var _a = store;
        await using var _b = sg;
        Assert.Contains("no stored decision", (await Assert.ThrowsAsync<ArgumentException>(
            () => svc.FileAsync("nope", "r", "x", "ana", DashboardRole.Analyst))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => svc.FileAsync("h1", " ", "x", "ana", DashboardRole.Analyst));
        await Assert.ThrowsAsync<ArgumentException>(() => svc.FileAsync("h1", "r", "", "ana", DashboardRole.Analyst));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.FileAsync("h1", "r", "x", "vic", DashboardRole.Viewer));
        var appeal = await svc.FileAsync("h1", "r", "x", "ana", DashboardRole.Analyst);
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.ReviewAsync(appeal.Id, AppealOutcome.Reverse, "ana", DashboardRole.Analyst));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => svc.ReviewAsync(appeal.Id, AppealOutcome.Reverse, "vic", DashboardRole.Viewer));
        await Assert.ThrowsAsync<ArgumentException>(() => svc.ReviewAsync(appeal.Id, AppealOutcome.Reverse, "bob", DashboardRole.Analyst, "bogus"));
        await Assert.ThrowsAsync<ArgumentException>(() => svc.ReviewAsync(appeal.Id, AppealOutcome.Reverse, "bob", DashboardRole.Analyst, Labels.Hate));
        await Assert.ThrowsAsync<ArgumentException>(() => svc.ReviewAsync("ap_missing", AppealOutcome.Uphold, "bob", DashboardRole.Analyst));
        Assert.Single(await svc.ListAsync(AppealStatus.Open));
        Assert.Empty(await store.GetFeedbackAsync());
        Assert.Equal(3, (await log.ReadAsync()).Count(e => e.Action == AuditActions.AppealDenied));
    }
}
