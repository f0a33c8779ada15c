using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Tests;

namespace EarlyWarning.Signals.Tests.Delivery;

public sealed class SubscriptionAndFeedbackTests
{
    private const string Json = """
        {
          // comments are allowed
          "subscriptions": [
            {"id": "mm-hook", "name": "Myanmar desk", "channel": "webhook", "target": "https://hooks.example.org/ew",
             "secret_env": "EW_TEST_SECRET", "countries": ["mm"], "regions": ["Rakhine", "Shan"], "min_severity": "medium"},
            {"id": "ke-mail", "channel": "email", "target": "ke-desk@example.org", "kinds": ["incitement", "volume_spike"]},
            {"id": "kafka", "channel": "topic", "target": "alerts"},
            {"id": "bad-kind", "channel": "email", "target": "x@example.org", "kinds": ["riot"]},
            {"id": "no-secret", "channel": "webhook", "target": "https://example.org/h"},
            {"id": "bad-url", "channel": "webhook", "target": "ftp://example.org", "secret": "0123456789abcdefXYZ"},
            {"id": "typo", "channel": "email", "target": "x@example.org", "min_severty": "high"},
            {"id": "bad-country", "channel": "email", "target": "x@example.org", "countries": ["Myanmar"]},
            {"id": "bad-sev", "channel": "email", "target": "x@example.org", "min_severity": "severe"},
            {"id": "bad-mail", "channel": "email", "target": "not an address"},
            {"id": "kafka", "channel": "topic", "target": "alerts"},
            {"id": "bad channel", "channel": "sms", "target": "+100"},
            42,
          ]
        }
        """;

    [Fact]
    public void Loads_valid_entries_and_reports_each_bad_one_with_a_reason()
    {
        var result = SubscriptionFile.Parse(Json, name => name == "EW_TEST_SECRET" ? "secret-from-env-0123456789" : null);

        Assert.Equal(["mm-hook", "ke-mail", "kafka"], result.Subscriptions.Select(s => s.Id));
        var hook = result.Subscriptions[0];
        Assert.Equal(ChannelKind.Webhook, hook.Channel);
        Assert.Equal("secret-from-env-0123456789", hook.Secret);
        Assert.Equal(["MM"], hook.Countries);
        Assert.Equal(Severity.Medium, hook.MinSeverity);
        Assert.Equal("ke-mail", result.Subscriptions[1].Name);

        var reasons = result.Errors.ToDictionary(e => e.Index, e => e.Reason);
        Assert.Equal(10, result.Errors.Count);
        Assert.Contains("unknown alert kind 'riot'", reasons[3], StringComparison.Ordinal);
        Assert.Contains("secret", reasons[4], StringComparison.Ordinal);
        Assert.Contains("http or https", reasons[5], StringComparison.Ordinal);
        Assert.Contains("unknown field 'min_severty'", reasons[6], StringComparison.Ordinal);
        Assert.Contains("alpha-2", reasons[7], StringComparison.Ordinal);
        Assert.Contains("min_severity", reasons[8], StringComparison.Ordinal);
        Assert.Contains("email address", reasons[9], StringComparison.Ordinal);
        Assert.Equal("duplicate id", reasons[10]);
        Assert.Contains("'id'", reasons[11], StringComparison.Ordinal);
        Assert.Contains("not an object", reasons[12], StringComparison.Ordinal);
        Assert.All(result.Errors, e => Assert.StartsWith("subscriptions[", e.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_secret_env_and_broken_files_are_errors_not_exceptions()
    {
        var r = SubscriptionFile.Parse(Json, _ => null);
        Assert.DoesNotContain(r.Subscriptions, s => s.Id == "mm-hook");
        Assert.Contains(r.Errors, e => e.Id == "mm-hook" && e.Reason.Contains("EW_TEST_SECRET", StringComparison.Ordinal));

        Assert.Single(SubscriptionFile.Parse("{not json").Errors);
        Assert.Single(SubscriptionFile.Parse("{\"subs\": []}").Errors);
        var missing = SubscriptionFile.Load(Path.Combine(TestPaths.NewTempDir(), "none.json"));
        Assert.Empty(missing.Subscriptions);
        Assert.Contains("cannot read", Assert.Single(missing.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Shipped_example_file_loads_without_errors()
    {
        var path = Path.Combine(TestPaths.RepoRoot, "pipeline", "EarlyWarning.Signals", "Delivery", "subscriptions.example.json");
        var r = SubscriptionFile.Load(path, _ => "example-secret-0123456789");
        Assert.Empty(r.Errors);
        Assert.Contains(r.Subscriptions, s => s.Channel == ChannelKind.Webhook);
        Assert.Contains(r.Subscriptions, s => s.Channel == ChannelKind.Email);
        Assert.Contains(r.Subscriptions, s => s.Channel == ChannelKind.Topic);
    }

    [Fact]
    public void Matching_checks_country_region_kind_and_severity()
    {
        var s = new Subscription
        {
            Id = "s",
            Name = "s",
            Channel = ChannelKind.Email,
            Target = "a@example.org",
            Countries = ["MM"],
            Regions = ["rakhine"],
            Kinds = [AlertKinds.VolumeSpike],
            MinSeverity = Severity.Medium,
        };
        Assert.True(s.Matches(DeliveryTestData.Alert(severity: Severity.Medium)));
        Assert.False(s.Matches(DeliveryTestData.Alert(severity: Severity.Low)));
        Assert.False(s.Matches(DeliveryTestData.Alert(region: "Shan")));
        Assert.False(s.Matches(DeliveryTestData.Alert(country: "KE")));
        Assert.False(s.Matches(DeliveryTestData.Alert(AlertKinds.Incitement)));
        Assert.False((s with { Enabled = false }).Matches(DeliveryTestData.Alert()));
    }

    [Theory]
    [InlineData("not_hateful: counter-speech by a local NGO", DismissalReason.NotHateful)]
    [InlineData("This is a news report quoting the speaker", DismissalReason.NotHateful)]
    [InlineData("Not hateful at all", DismissalReason.NotHateful)]
    [InlineData("duplicate of the Sittwe alert", DismissalReason.Duplicate)]
    [InlineData("wrong region: posts are from Yangon", DismissalReason.WrongScope)]
    [InlineData("scheduled rally, expected volume", DismissalReason.Expected)]
    [InlineData("other", DismissalReason.Other)]
    [InlineData(null, DismissalReason.Other)]
    [InlineData("looks fine to me", DismissalReason.Other)]
    public void Dismissal_reasons_are_read_from_codes_or_words(string? note, DismissalReason expected) =>
        Assert.Equal(expected, AlertFeedback.ClassifyReason(note));

    [Fact]
    public void A_not_hateful_dismissal_becomes_a_false_alert_and_none_labels_for_the_evidence()
    {
        var alert = DeliveryTestData.Alert(posts: 4);
        alert.Evidence.PostIds.Add(alert.Evidence.PostIds[0]); // duplicates give one feedback each post
        var at = DeliveryTestData.T0.AddHours(3);

        var r = AlertFeedback.FromStatusChange(alert, AlertStatus.Dismissed, "analyst-7", "not hateful: counter-speech", at);

        var e = r.Evaluation!;
        Assert.Equal((DetectorEvaluationRecord.FalseAlert, "not_hateful", "volume_spike", "MM", "Rakhine", "seasonal"), (e.Outcome, e.Reason, e.Kind, e.Country, e.Region, e.Detector));
        Assert.Equal(4, r.Training.Count);
        Assert.Equal(alert.Evidence.PostIds.Distinct(), r.Training.Select(f => f.PostId));
        Assert.All(r.Training, f => Assert.Equal((Labels.None, "analyst-7", at), (f.Label, f.Actor, f.At)));
        Assert.All(r.Training, f => Assert.Contains(alert.Id, f.Note, StringComparison.Ordinal));
    }

    [Fact]
    public void Other_judgements_give_evaluation_records_without_label_changes()
    {
        var a = DeliveryTestData.Alert();
        var wrong = AlertFeedback.FromStatusChange(a, AlertStatus.Dismissed, "x", "wrong region", DeliveryTestData.T0);
        Assert.Equal(DetectorEvaluationRecord.FalseAlert, wrong.Evaluation!.Outcome);
        Assert.Empty(wrong.Training);
        Assert.Equal(DetectorEvaluationRecord.DuplicateAlert, AlertFeedback.FromStatusChange(a, AlertStatus.Dismissed, "x", "duplicate", DeliveryTestData.T0).Evaluation!.Outcome);
        Assert.Equal(DetectorEvaluationRecord.Confirmed, AlertFeedback.FromStatusChange(a, AlertStatus.Escalated, "x", null, DeliveryTestData.T0).Evaluation!.Outcome);
        var ack = AlertFeedback.FromStatusChange(a, AlertStatus.Acknowledged, "x", null, DeliveryTestData.T0);
        Assert.Null(ack.Evaluation);
        Assert.Empty(ack.Training);
    }

    [Fact]
    public void Summary_counts_false_alerts_per_kind_and_region_from_audit_trails()
    {
        var alerts = Enumerable.Range(0, 5).Select(i => DeliveryTestData.Alert(minute: i * 20)).ToList();
        alerts.Add(DeliveryTestData.Alert(region: "Shan"));
        alerts[0].Audit.Add(new AuditEntry(DeliveryTestData.T0, "a", AlertStatus.Dismissed, "not hateful"));
        alerts[1].Audit.Add(new AuditEntry(DeliveryTestData.T0, "a", AlertStatus.Dismissed, "wrong region"));
        alerts[2].Audit.Add(new AuditEntry(DeliveryTestData.T0, "a", AlertStatus.Escalated, null));
        alerts[3].Audit.Add(new AuditEntry(DeliveryTestData.T0, "a", AlertStatus.Dismissed, "duplicate"));
        // The latest judgement counts: dismissed, then escalated after review.
        alerts[4].Audit.Add(new AuditEntry(DeliveryTestData.T0, "a", AlertStatus.Dismissed, "not hateful"));
        alerts[4].Audit.Add(new AuditEntry(DeliveryTestData.T0.AddMinutes(5), "b", "status:escalated", null));

        var s = AlertFeedback.Summarize(alerts);

        var rakhine = Assert.Single(s, x => x.Region == "Rakhine");
        Assert.Equal((5, 2, 2, 1), (rakhine.Alerts, rakhine.Confirmed, rakhine.FalseAlerts, rakhine.Duplicates));
        Assert.Equal(0.5, rakhine.FalseAlertShare);
        var shan = Assert.Single(s, x => x.Region == "Shan");
        Assert.Null(shan.FalseAlertShare);
    }
}
