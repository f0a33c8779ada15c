using System.Text.Json;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.Signals.Tests.Delivery;

public sealed class WebhookChannelTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Receiver_gets_a_signed_post_with_the_alert_id_as_idempotency_key()
    {
        await using var rx = WebhookReceiver.Start();
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry());
        var alert = DeliveryTestData.Alert();
        var sub = DeliveryTestData.Webhook(rx.Url);
        var sentAt = new DateTimeOffset(2026, 11, 8, 6, 20, 0, TimeSpan.Zero);

        var result = await channel.SendAsync(new DeliveryRequest(alert, sub, alert.Id, false, sentAt), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Equal(1, result.Attempts);
        var req = Assert.Single(rx.Received);
        Assert.Equal("POST", req.Method);
        Assert.StartsWith("application/json", req.Headers["Content-Type"], StringComparison.Ordinal);
        // The receiver recomputes the HMAC over the bytes it got, with the shared secret.
        Assert.True(WebhookChannel.Verify(req.Body, DeliveryTestData.Secret, req.Headers[WebhookChannel.SignatureHeader]));
        Assert.False(WebhookChannel.Verify(req.Body, "another-secret-0123456789", req.Headers[WebhookChannel.SignatureHeader]));
        Assert.Matches("^sha256=[0-9a-f]{64}$", req.Headers[WebhookChannel.SignatureHeader]);
        Assert.Equal(alert.Id, req.Headers[WebhookChannel.IdempotencyHeader]);
        Assert.Equal(sentAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), req.Headers[WebhookChannel.TimestampHeader]);
        Assert.Equal(AlertPayload.Created, req.Headers[WebhookChannel.EventHeader]);

        using var doc = JsonDocument.Parse(req.Body);
        var root = doc.RootElement;
        Assert.Equal(alert.Id, root.GetProperty("idempotency_key").GetString());
        var a = root.GetProperty("alert");
        Assert.Equal(alert.Id, a.GetProperty("id").GetString());
        Assert.Equal("high", a.GetProperty("severity").GetString());
        Assert.Equal("Rakhine", a.GetProperty("scope").GetProperty("region").GetString());
        Assert.Equal(alert.Explanation, a.GetProperty("explanation").GetString());
        Assert.Equal(DeliveryTestData.Links.Dashboard(alert.Id), a.GetProperty("links").GetProperty("dashboard").GetString());
    }

    [Fact]
    public async Task A_tampered_body_fails_verification()
    {
        var body = "{\"a\":1}"u8.ToArray();
        var sig = WebhookChannel.Sign(body, DeliveryTestData.Secret);
        Assert.True(WebhookChannel.Verify(body, DeliveryTestData.Secret, sig));
        body[5] = (byte)'2';
        Assert.False(WebhookChannel.Verify(body, DeliveryTestData.Secret, sig));
        Assert.False(WebhookChannel.Verify(body, DeliveryTestData.Secret, null));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_500_is_retried_with_the_same_signed_body_until_200()
    {
        await using var rx = WebhookReceiver.Start((500, TimeSpan.Zero), (503, TimeSpan.Zero), (200, TimeSpan.Zero));
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry(5));
        var alert = DeliveryTestData.Alert();

        var result = await channel.SendAsync(new DeliveryRequest(alert, DeliveryTestData.Webhook(rx.Url), alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Equal(3, result.Attempts);
        var got = rx.Received;
        Assert.Equal([500, 503, 200], got.Select(r => r.Answered));
        Assert.Equal(["1", "2", "3"], got.Select(r => r.Headers[WebhookChannel.AttemptHeader]));
        // Every retry is the same delivery: same bytes, same signature, same key.
        Assert.All(got, r => Assert.Equal(got[0].Body, r.Body));
        Assert.All(got, r => Assert.True(WebhookChannel.Verify(r.Body, DeliveryTestData.Secret, r.Headers[WebhookChannel.SignatureHeader])));
        Assert.All(got, r => Assert.Equal(alert.Id, r.Headers[WebhookChannel.IdempotencyHeader]));
    }

    [Fact]
    public async Task A_4xx_is_not_retried()
    {
        await using var rx = WebhookReceiver.Start((400, TimeSpan.Zero), (200, TimeSpan.Zero));
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry(5));
        var alert = DeliveryTestData.Alert();

        var result = await channel.SendAsync(new DeliveryRequest(alert, DeliveryTestData.Webhook(rx.Url), alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Rejected, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Contains("400", result.Detail, StringComparison.Ordinal);
        Assert.Single(rx.Received);
    }

    [Fact]
    public async Task Retries_are_bounded_and_end_as_failed()
    {
        await using var rx = WebhookReceiver.Start((500, TimeSpan.Zero), (500, TimeSpan.Zero), (500, TimeSpan.Zero), (500, TimeSpan.Zero));
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry(3));
        var alert = DeliveryTestData.Alert();

        var result = await channel.SendAsync(new DeliveryRequest(alert, DeliveryTestData.Webhook(rx.Url), alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Failed, result.Status);
        Assert.Equal(3, result.Attempts);
        Assert.Equal(3, rx.Received.Count);
    }

    [Fact]
    public async Task A_timeout_is_retried()
    {
        // The first answer never comes in time; the second is immediate. The attempt timeout leaves the second attempt
        // seconds, not milliseconds: on a loaded 2-core CI machine a fresh connection to HttpListener took over 300 ms.
        await using var rx = WebhookReceiver.Start((200, TimeSpan.FromSeconds(60)), (200, TimeSpan.Zero));
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry(3), attemptTimeout: TimeSpan.FromSeconds(3));
        var alert = DeliveryTestData.Alert();

        var result = await channel.SendAsync(new DeliveryRequest(alert, DeliveryTestData.Webhook(rx.Url), alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Delivered, result.Status);
        Assert.Equal(2, result.Attempts);
        await rx.WaitForAsync(2, Wait);
        Assert.Equal(["1", "2"], rx.Received.Select(r => r.Headers[WebhookChannel.AttemptHeader]));
    }

    [Fact]
    public async Task A_refused_connection_is_a_failure_not_an_exception()
    {
        var port = WebhookReceiver.FreePort();
        using var http = new HttpClient();
        var channel = new WebhookChannel(http, DeliveryTestData.Links, DeliveryTestData.FastRetry(2));
        var alert = DeliveryTestData.Alert();

        var result = await channel.SendAsync(new DeliveryRequest(alert, DeliveryTestData.Webhook($"http://127.0.0.1:{port}/x"), alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Failed, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.Contains("connection", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_grows_exponentially_and_is_capped()
    {
        var p = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), Factor = 2 };
        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(1, 6).Select(i => p.DelayAfter(i).TotalSeconds));
    }
}
