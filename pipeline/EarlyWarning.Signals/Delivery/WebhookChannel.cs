using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace EarlyWarning.Signals.Delivery;

/// <summary>
/// Signed webhooks: POSTs the alert as JSON (<see cref="AlertPayload"/>) with
/// <c>X-EarlyWarning-Signature: sha256=&lt;hex HMAC-SHA256 of the body keyed by the subscription's secret&gt;</c>,
/// <c>X-EarlyWarning-Idempotency-Key</c> (the alert id; <c>id:severity</c> for a severity update),
/// <c>X-EarlyWarning-Timestamp</c> (Unix seconds, also in the signed body as <c>sent_at</c>) and
/// <c>X-EarlyWarning-Event</c>. 5xx, 408, 429, timeouts and connection errors are retried with bounded exponential
/// back-off (a <c>Retry-After</c> up to the policy's maximum delay is honoured); other 4xx are not retried.
/// </summary>
public sealed class WebhookChannel : IAlertChannel
{
    public const string SignatureHeader = "X-EarlyWarning-Signature";
    public const string IdempotencyHeader = "X-EarlyWarning-Idempotency-Key";
    public const string TimestampHeader = "X-EarlyWarning-Timestamp";
    public const string EventHeader = "X-EarlyWarning-Event";
    public const string AttemptHeader = "X-EarlyWarning-Attempt";

    private readonly HttpClient _http;
    private readonly AlertLinks _links;
    private readonly RetryPolicy _retry;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeProvider _time;

    /// <summary>Uses a shared <see cref="HttpClient"/>, whose own Timeout should be longer than the per-attempt timeout (default 10 s).</summary>
    public WebhookChannel(HttpClient http, AlertLinks links, RetryPolicy? retry = null, TimeSpan? attemptTimeout = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(links);
        _http = http;
        _links = links;
        _retry = retry ?? new RetryPolicy();
        _retry.Validate();
        _attemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(10);
        _time = time ?? TimeProvider.System;
    }

    public ChannelKind Kind => ChannelKind.Webhook;

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> body, string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, mac);
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>Checks a signature header in constant time (for receivers and tests).</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string secret, string? header)
    {
        if (header is null) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(body, secret));
        var given = Encoding.ASCII.GetBytes(header.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    public async Task<ChannelResult> SendAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sub = request.Subscription;
        if (string.IsNullOrEmpty(sub.Secret)) return new ChannelResult(DeliveryStatus.Rejected, 0, "subscription has no signing secret");
        if (!Uri.TryCreate(sub.Target, UriKind.Absolute, out var url)) return new ChannelResult(DeliveryStatus.Rejected, 0, "target is not an absolute URL");

        // One body for every attempt: same bytes, same signature, so the receiver can dedupe on the key.
        var body = AlertPayload.Serialize(request.Alert, sub, request.IdempotencyKey, request.IsUpdate, request.SentAt, _links);
        var signature = Sign(body, sub.Secret);
        var timestamp = request.SentAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var evt = request.IsUpdate ? AlertPayload.Updated : AlertPayload.Created;

        string detail = "";
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            using (var msg = new HttpRequestMessage(HttpMethod.Post, url))
            {
                msg.Content = new ByteArrayContent(body);
                msg.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                msg.Headers.TryAddWithoutValidation(SignatureHeader, signature);
                msg.Headers.TryAddWithoutValidation(IdempotencyHeader, request.IdempotencyKey);
                msg.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
                msg.Headers.TryAddWithoutValidation(EventHeader, evt);
                msg.Headers.TryAddWithoutValidation(AttemptHeader, attempt.ToString(CultureInfo.InvariantCulture));
                msg.Headers.UserAgent.ParseAdd("EarlyWarning-Webhook/1.0");
                using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attemptCts.CancelAfter(_attemptTimeout);
                try
                {
                    using var resp = await _http.SendAsync(msg, HttpCompletionOption.ResponseHeadersRead, attemptCts.Token).ConfigureAwait(false);
                    var code = (int)resp.StatusCode;
                    if (code is >= 200 and < 300)
                        return new ChannelResult(DeliveryStatus.Delivered, attempt, $"HTTP {code}");
                    detail = $"HTTP {code}";
                    if (!IsTransient(resp.StatusCode))
                        return new ChannelResult(DeliveryStatus.Rejected, attempt, detail + " (not retried)");
                    retryAfter = resp.Headers.RetryAfter?.Delta;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (OperationCanceledException)
                {
                    detail = $"timed out after {_attemptTimeout.TotalSeconds:0.#} s";
                }
                catch (HttpRequestException ex)
                {
                    detail = "connection failed: " + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString());
                }
            }
            if (attempt >= _retry.MaxAttempts)
                return new ChannelResult(DeliveryStatus.Failed, attempt, detail + $" (gave up after {attempt} attempts)");
            var wait = _retry.DelayAfter(attempt);
            if (retryAfter is { } ra && ra > wait && ra <= _retry.MaxDelay) wait = ra;
            await Task.Delay(wait, _time, ct).ConfigureAwait(false);
        }
    }

    private static bool IsTransient(HttpStatusCode code) =>
        (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
