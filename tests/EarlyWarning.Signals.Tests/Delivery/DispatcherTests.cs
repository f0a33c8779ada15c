using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Tests;

namespace EarlyWarning.Signals.Tests.Delivery;

public sealed class DispatcherTests
{
    [Fact]
    public async Task Routes_by_country_kind_and_minimum_severity()
    {
        var hook = new RecordingChannel(ChannelKind.Webhook);
        Subscription[] subs =
        [
            DeliveryTestData.Webhook("http://127.0.0.1:1/a", "mm-all", countries: ["MM"]),
            DeliveryTestData.Webhook("http://127.0.0.1:1/b", "ke-critical", Severity.Critical, countries: ["KE"]),
            DeliveryTestData.Webhook("http://127.0.0.1:1/c", "incitement-only", kinds: [AlertKinds.Incitement]),
        ];
        using var d = new AlertDispatcher(subs, [hook], new InMemoryDeliveryLedger());
        Alert[] alerts =
        [
            DeliveryTestData.Alert(country: "MM", severity: Severity.Low),
            DeliveryTestData.Alert(country: "KE", region: "Nairobi", severity: Severity.High, minute: 1),
            DeliveryTestData.Alert(AlertKinds.Incitement, country: "KE", region: "Kisumu", severity: Severity.Critical, minute: 2),
        ];

        var report = await d.DispatchAsync(alerts);

        var pairs = hook.Sent.Select(r => (r.Subscription.Id, r.Alert.Id)).OrderBy(x => x.Item1).ThenBy(x => x.Item2).ToList();
        var expected = new[] { ("incitement-only", alerts[2].Id), ("ke-critical", alerts[2].Id), ("mm-all", alerts[0].Id) }
            .OrderBy(x => x.Item1).ThenBy(x => x.Item2).ToList();
        Assert.Equal(expected, pairs);
        Assert.Equal(3, report.Delivered);
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task A_replay_after_restart_delivers_nothing_twice_and_a_severity_rise_is_delivered_once()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "deliveries.jsonl");
        await using var rx = WebhookReceiver.Start();
        using var http = new HttpClient();
        var alerts = new[] { DeliveryTestData.Alert(), DeliveryTestData.Alert(region: "Yangon", minute: 3), DeliveryTestData.Alert(region: "Shan", minute: 6) };
        var sub = DeliveryTestData.Webhook(rx.Url);

        async Task<DispatchReport> RunOnce(IReadOnlyList<Alert> batch)
        {
            // A fresh dispatcher and ledger each time: as after a process restart.
            using var ledger = JsonlDeliveryLedger.Open(path);
            using var d = new AlertDispatcher([sub], [new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry())], ledger);
            return await d.DispatchAsync(batch);
        }

        var first = await RunOnce(alerts);
        Assert.Equal(3, first.Delivered);
        var replay = await RunOnce(alerts);
        Assert.Equal(0, replay.Delivered);
        Assert.Equal(3, replay.AlreadyDelivered);
        Assert.Equal(3, rx.Received.Count);

        // The same alert, updated with a higher severity: delivered once as an update, then never again.
        alerts[1].Severity = Severity.Critical;
        var update = await RunOnce(alerts);
        Assert.Equal(1, update.Delivered);
        var again = await RunOnce(alerts);
        Assert.Equal(0, again.Delivered);

        // An update with a lower or equal severity is not news.
        alerts[0].Severity = Severity.Medium;
        Assert.Equal(0, (await RunOnce(alerts)).Delivered);

        var got = rx.Received;
        Assert.Equal(4, got.Count);
        Assert.Equal(4, got.Select(r => r.Headers[WebhookChannel.IdempotencyHeader]).Distinct().Count());
        var upd = got[3];
        Assert.Equal(alerts[1].Id + ":critical", upd.Headers[WebhookChannel.IdempotencyHeader]);
        Assert.Equal(AlertPayload.Updated, upd.Headers[WebhookChannel.EventHeader]);

        using var check = JsonlDeliveryLedger.Open(path);
        var records = await check.GetRecordsAsync();
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Equal(DeliveryStatus.Delivered, r.Status));
        Assert.All(records, r => Assert.Equal(rx.Url, r.Target));
        Assert.Equal(0, check.UnreadableLines);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task A_failed_delivery_is_recorded_and_tried_again_on_the_next_dispatch()
    {
        var fail = true;
        var channel = new RecordingChannel(ChannelKind.Webhook, _ => fail ? new ChannelResult(DeliveryStatus.Failed, 3, "HTTP 503") : new ChannelResult(DeliveryStatus.Delivered, 1));
        var ledger = new InMemoryDeliveryLedger();
        using var d = new AlertDispatcher([DeliveryTestData.Webhook("http://127.0.0.1:1/")], [channel], ledger);
        var alert = DeliveryTestData.Alert();

        var r1 = await d.DispatchAsync([alert]);
        Assert.Equal(1, r1.Failed);
        Assert.Contains(r1.Problems, p => p.Contains(alert.Id, StringComparison.Ordinal) && p.Contains("503", StringComparison.Ordinal));
        fail = false;
        var r2 = await d.DispatchAsync([alert]);
        Assert.Equal(1, r2.Delivered);
        var r3 = await d.DispatchAsync([alert]);
        Assert.Equal(0, r3.Delivered);
        Assert.Equal(2, channel.Sent.Count);
        // The retry is still the first delivery to the receiver: same key, not an update.
        Assert.All(channel.Sent, s => Assert.Equal(alert.Id, s.IdempotencyKey));
        Assert.Equal([DeliveryStatus.Failed, DeliveryStatus.Delivered], (await ledger.GetRecordsAsync(alert.Id)).Select(x => x.Status));
    }

    [Fact]
    public async Task Rejected_is_settled_until_severity_rises()
    {
        var channel = new RecordingChannel(ChannelKind.Webhook, _ => new ChannelResult(DeliveryStatus.Rejected, 1, "HTTP 404"));
        using var d = new AlertDispatcher([DeliveryTestData.Webhook("http://127.0.0.1:1/")], [channel], new InMemoryDeliveryLedger());
        var alert = DeliveryTestData.Alert(severity: Severity.Medium);
        Assert.Equal(1, (await d.DispatchAsync([alert])).Rejected);
        Assert.Equal(0, (await d.DispatchAsync([alert])).Rejected);
        alert.Severity = Severity.High;
        await d.DispatchAsync([alert]);
        Assert.Equal(2, channel.Sent.Count);
        // The receiver never accepted the first, so the second is not an update.
        Assert.False(channel.Sent[1].IsUpdate);
    }

    [Fact]
    public async Task Dismissed_alerts_are_not_delivered_and_a_missing_channel_is_reported()
    {
        var hook = new RecordingChannel(ChannelKind.Webhook);
        var email = new Subscription { Id = "mail", Name = "Mail", Channel = ChannelKind.Email, Target = "monitor@example.org" };
        using var d = new AlertDispatcher([DeliveryTestData.Webhook("http://127.0.0.1:1/"), email], [hook], new InMemoryDeliveryLedger());
        var dismissed = DeliveryTestData.Alert();
        dismissed.Status = AlertStatus.Dismissed;
        var live = DeliveryTestData.Alert(region: "Kachin", minute: 9);

        var report = await d.DispatchAsync([dismissed, live]);

        Assert.Equal(live.Id, Assert.Single(hook.Sent).Alert.Id);
        Assert.Equal(1, report.NoChannel);
        Assert.Contains(report.Problems, p => p.Contains("'mail'", StringComparison.Ordinal) && p.Contains("Email", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_throwing_channel_fails_one_delivery_not_the_dispatch()
    {
        var channel = new RecordingChannel(ChannelKind.Webhook, r => r.Alert.Scope.Region == "Shan" ? throw new InvalidOperationException("boom") : new ChannelResult(DeliveryStatus.Delivered, 1));
        using var d = new AlertDispatcher([DeliveryTestData.Webhook("http://127.0.0.1:1/")], [channel], new InMemoryDeliveryLedger());
        var report = await d.DispatchAsync([DeliveryTestData.Alert(region: "Shan"), DeliveryTestData.Alert(region: "Kachin", minute: 2)]);
        Assert.Equal(1, report.Delivered);
        Assert.Equal(1, report.Failed);
        Assert.Contains(report.Records, r => r.Status == DeliveryStatus.Failed && r.Detail!.Contains("boom", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Topic_channel_hands_alerts_to_the_writer_and_rejects_unknown_topics()
    {
        var writer = new FakeTopicWriter();
        var channel = new TopicChannel(writer, DeliveryTestData.FastRetry(3));
        var alert = DeliveryTestData.Alert();
        var sub = new Subscription { Id = "kafka", Name = "Kafka alerts", Channel = ChannelKind.Topic, Target = "alerts" };
        var ok = await channel.SendAsync(new DeliveryRequest(alert, sub, alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Delivered, ok.Status);
        Assert.Equal(2, ok.Attempts); // the fake fails its first write
        Assert.Equal([("alerts", alert.Id)], writer.Written);

        var bad = await channel.SendAsync(new DeliveryRequest(alert, sub with { Target = "other" }, alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Rejected, bad.Status);
    }

    private sealed class FakeTopicWriter : IAlertTopicWriter
    {
        private int _calls;
        public List<(string, string)> Written { get; } = [];

        public Task WriteAsync(string topic, IReadOnlyList<Alert> alerts, CancellationToken ct)
        {
            if (topic != "alerts") throw new ArgumentException("only the alerts topic", nameof(topic));
            if (Interlocked.Increment(ref _calls) == 1) throw new IOException("broker not available");
            Written.AddRange(alerts.Select(a => (topic, a.Id)));
            return Task.CompletedTask;
        }
    }
}
