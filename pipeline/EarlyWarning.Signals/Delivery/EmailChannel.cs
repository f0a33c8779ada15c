using System.Net;
using System.Net.Mail;
using System.Net.Sockets;
using System.Text;

namespace EarlyWarning.Signals.Delivery;

/// <summary>Where and how the email channel reaches its SMTP relay.</summary>
public sealed record SmtpOptions
{
    public required string Host { get; init; }
    public int Port { get; init; } = 25;
    /// <summary>Envelope and header sender address.</summary>
    public required string From { get; init; }
    public string FromName { get; init; } = "EarlyWarning";
    /// <summary>STARTTLS; turn on for any relay outside the machine.</summary>
    public bool EnableSsl { get; init; }
    public string? UserName { get; init; }
    public string? Password { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Whether the alert's short excerpts go into the mail (the rest of the post text never does).</summary>
    public bool IncludeExcerpts { get; init; } = true;
}

/// <summary>
/// Email through SMTP (<see cref="SmtpClient"/>): one plain-text UTF-8 message per delivery (<see cref="AlertText"/>),
/// with a Message-ID and an <c>X-EarlyWarning-Idempotency-Key</c> header derived from the idempotency key so a
/// mail system can drop a duplicate. Transient failures (connection errors, SMTP 4xx replies) are retried with bounded
/// back-off; permanent ones (5xx, bad addresses) are rejected.
/// </summary>
public sealed class EmailChannel : IAlertChannel
{
    private readonly SmtpOptions _smtp;
    private readonly AlertLinks _links;
    private readonly RetryPolicy _retry;
    private readonly TimeProvider _time;
    private readonly MailAddress _from;

    public EmailChannel(SmtpOptions smtp, AlertLinks links, RetryPolicy? retry = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(smtp);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentException.ThrowIfNullOrWhiteSpace(smtp.Host);
        if (smtp.Port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(smtp), smtp.Port, "SMTP port must be 1..65535");
        _smtp = smtp;
        _from = new MailAddress(smtp.From, smtp.FromName, Encoding.UTF8);
        _links = links;
        _retry = retry ?? new RetryPolicy();
        _retry.Validate();
        _time = time ?? TimeProvider.System;
    }

    public ChannelKind Kind => ChannelKind.Email;

    /// <summary>The Message-ID used for an idempotency key: the same key always gives the same id.</summary>
    public static string MessageId(string idempotencyKey, string fromAddress)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        ArgumentNullException.ThrowIfNull(fromAddress);
        var left = new string([.. idempotencyKey.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '.')]);
        var at = fromAddress.LastIndexOf('@');
        var domain = at >= 0 && at < fromAddress.Length - 1 ? fromAddress[(at + 1)..] : "earlywarning.invalid";
        return $"<{left}.earlywarning@{domain}>";
    }

    public async Task<ChannelResult> SendAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        MailAddress to;
        try
        {
            to = new MailAddress(request.Subscription.Target);
        }
        catch (FormatException)
        {
            return new ChannelResult(DeliveryStatus.Rejected, 0, "target is not an email address");
        }

        var subject = AlertText.Subject(request.Alert, request.IsUpdate);
        var body = AlertText.Body(request.Alert, _links, request.Subscription, request.IsUpdate, _smtp.IncludeExcerpts);
        string detail = "";
        for (var attempt = 1; ; attempt++)
        {
            using (var msg = new MailMessage(_from, to))
            {
                msg.Subject = subject;
                msg.SubjectEncoding = Encoding.UTF8;
                msg.Body = body;
                msg.BodyEncoding = Encoding.UTF8;
                msg.IsBodyHtml = false;
                msg.Headers.Add("Message-ID", MessageId(request.IdempotencyKey, _from.Address));
                msg.Headers.Add("X-EarlyWarning-Idempotency-Key", request.IdempotencyKey);
                msg.Headers.Add("X-EarlyWarning-Alert", request.Alert.Id);
                using var client = new SmtpClient(_smtp.Host, _smtp.Port)
                {
                    EnableSsl = _smtp.EnableSsl,
                    DeliveryMethod = SmtpDeliveryMethod.Network,
                    Timeout = (int)Math.Clamp(_smtp.Timeout.TotalMilliseconds, 1000, int.MaxValue),
                };
                if (_smtp.UserName is not null) client.Credentials = new NetworkCredential(_smtp.UserName, _smtp.Password);
                try
                {
                    await client.SendMailAsync(msg, ct).ConfigureAwait(false);
                    return new ChannelResult(DeliveryStatus.Delivered, attempt, "accepted by " + _smtp.Host);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (SmtpException ex)
                {
                    detail = $"SMTP {(int)ex.StatusCode} {ex.StatusCode}";
                    if (!IsTransient(ex)) return new ChannelResult(DeliveryStatus.Rejected, attempt, detail + " (not retried)");
                }
                catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
                {
                    detail = "connection failed: " + ex.GetType().Name;
                }
            }
            if (attempt >= _retry.MaxAttempts)
                return new ChannelResult(DeliveryStatus.Failed, attempt, detail + $" (gave up after {attempt} attempts)");
            await Task.Delay(_retry.DelayAfter(attempt), _time, ct).ConfigureAwait(false);
        }
    }

    private static bool IsTransient(SmtpException ex)
    {
        var code = (int)ex.StatusCode;
        // GeneralFailure (-1) is how SmtpClient reports a connection that could not be made or broke off.
        return ex.StatusCode == SmtpStatusCode.GeneralFailure || code is >= 400 and < 500 || ex.InnerException is IOException or SocketException;
    }
}
