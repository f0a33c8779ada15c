using System.Text;
using System.Text.RegularExpressions;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.Signals.Tests.Delivery;

public sealed partial class EmailChannelTests(SmtpServerFixture smtp) : IClassFixture<SmtpServerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_real_smtp_server_receives_the_plain_text_alert()
    {
        var channel = new EmailChannel(new SmtpOptions { Host = "127.0.0.1", Port = smtp.Port, From = "alerts@earlywarning.test" },
            DeliveryTestData.Links, DeliveryTestData.FastRetry(2));
        var alert = DeliveryTestData.Alert(AlertKinds.Incitement, severity: Severity.Critical, region: "Mandalay");
        var sub = new Subscription { Id = "mail-mm", Name = "Myanmar desk", Channel = ChannelKind.Email, Target = "desk@monitor.test", Countries = ["MM"] };
        using var d = new AlertDispatcher([sub], [channel], new InMemoryDeliveryLedger());

        var report = await d.DispatchAsync([alert]);
        Assert.Equal(1, report.Delivered);
        Assert.Empty(report.Problems);

        var raw = smtp.WaitForMessages(1, Wait).Single(m => m.Contains(alert.Id, StringComparison.Ordinal));
        var (headers, body) = Parse(raw);
        Assert.Contains("desk@monitor.test", headers["To"], StringComparison.Ordinal);
        Assert.Contains("alerts@earlywarning.test", headers["From"], StringComparison.Ordinal);
        Assert.Equal(alert.Id, headers["X-EarlyWarning-Idempotency-Key"]);
        Assert.Equal(EmailChannel.MessageId(alert.Id, "alerts@earlywarning.test"), headers["Message-ID"]);
        Assert.Single(Regex.Matches(raw, "^Message-ID:", RegexOptions.Multiline | RegexOptions.IgnoreCase));
        Assert.StartsWith("text/plain", headers["Content-Type"], StringComparison.Ordinal);
        var subject = DecodeHeader(headers["Subject"]);
        Assert.Contains("CRITICAL", subject, StringComparison.Ordinal);
        Assert.Contains("Mandalay", subject, StringComparison.Ordinal);

        // What, where, how bad, how sure, the explanation and the link.
        Assert.Contains("What:", body, StringComparison.Ordinal);
        Assert.Contains("Where:    Mandalay, MM", body, StringComparison.Ordinal);
        Assert.Contains("How bad:  critical (CAP severity Extreme, urgency Immediate)", body, StringComparison.Ordinal);
        Assert.Contains("How sure: Likely", body, StringComparison.Ordinal);
        Assert.Contains(alert.Explanation, body, StringComparison.Ordinal);
        Assert.Contains(DeliveryTestData.Links.Dashboard(alert.Id), body, StringComparison.Ordinal);
        // Post text only as short excerpts: the long one is cut.
        Assert.Contains("synthetic excerpt one", body, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', AlertText.MaxExcerptLength), body, StringComparison.Ordinal);
        Assert.Contains("…", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_down_fails_after_bounded_retries()
    {
        var port = WebhookReceiver.FreePort();
        var channel = new EmailChannel(new SmtpOptions { Host = "127.0.0.1", Port = port, From = "alerts@earlywarning.test", Timeout = TimeSpan.FromSeconds(2) },
            DeliveryTestData.Links, DeliveryTestData.FastRetry(2));
        var alert = DeliveryTestData.Alert();
        var sub = new Subscription { Id = "m", Name = "m", Channel = ChannelKind.Email, Target = "desk@monitor.test" };
        var r = await channel.SendAsync(new DeliveryRequest(alert, sub, alert.Id, false, DateTimeOffset.UnixEpoch), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Failed, r.Status);
        Assert.Equal(2, r.Attempts);
    }

    private static (Dictionary<string, string> Headers, string Body) Parse(string raw)
    {
        raw = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = raw.IndexOf("\n\n", StringComparison.Ordinal);
        var head = raw[..split];
        var body = raw[(split + 2)..];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var line in head.Split('\n'))
        {
            if (line.Length > 0 && char.IsWhiteSpace(line[0]) && last is not null) { headers[last] += " " + line.Trim(); continue; }
            var c = line.IndexOf(':', StringComparison.Ordinal);
            if (c <= 0) continue;
            last = line[..c];
            headers[last] = line[(c + 1)..].Trim();
        }
        var cte = headers.GetValueOrDefault("Content-Transfer-Encoding", "7bit").ToLowerInvariant();
        if (cte == "base64") body = Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(body.Where(ch => !char.IsWhiteSpace(ch)))));
        else if (cte == "quoted-printable") body = DecodeQuotedPrintable(body);
        return (headers, body.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static string DecodeQuotedPrintable(string s)
    {
        s = s.Replace("=\n", "", StringComparison.Ordinal);
        var bytes = new List<byte>();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '=' && i + 2 < s.Length && Uri.IsHexDigit(s[i + 1]) && Uri.IsHexDigit(s[i + 2]))
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(s[i].ToString()));
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Decodes RFC 2047 encoded words (B and Q) in a header.</summary>
    private static string DecodeHeader(string h) =>
        EncodedWord().Replace(h, m =>
        {
            var text = m.Groups[3].Value;
            return m.Groups[2].Value.Equals("B", StringComparison.OrdinalIgnoreCase)
                ? Encoding.UTF8.GetString(Convert.FromBase64String(text))
                : DecodeQuotedPrintable(text.Replace('_', ' '));
        }).Replace("?= =?", "", StringComparison.Ordinal);

    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*")]
    private static partial Regex EncodedWord();
}
