using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;

namespace EarlyWarning.Signals.Tests.Delivery;

/// <summary>Synthetic alerts and subscriptions for the delivery tests (no real text or accounts).</summary>
internal static class DeliveryTestData
{
    public const string Secret = "test-secret-0123456789abcdef";
    public static readonly AlertLinks Links = new(new Uri("http://127.0.0.1:5080/"));
    public static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    public static Alert Alert(string kind = AlertKinds.VolumeSpike, string country = "MM", string region = "Rakhine",
        Severity severity = Severity.High, double score = 7.5, int minute = 0, string? target = "rohingya", int posts = 3)
    {
        var scope = new Scope(country, region, target, "my");
        var start = T0.AddMinutes(minute);
        return new Alert
        {
            Id = Core.Alerts.Alert.MakeId(kind, scope, start),
            Kind = kind,
            Severity = severity,
            Score = score,
            WindowStart = start,
            WindowEnd = start.AddMinutes(15),
            DetectedAt = start.AddMinutes(5),
            Scope = scope,
            Baseline = 4.2,
            Observed = 31,
            Evidence = new Evidence
            {
                PostIds = [.. Enumerable.Range(1, posts).Select(i => $"sim:{minute}-{i}")],
                TopTerms = ["term-a", "term-b"],
                Accounts = ["ps_0001", "ps_0002"],
                Excerpts = ["synthetic excerpt one", "synthetic excerpt two " + new string('x', 300)],
            },
            Explanation = $"Hateful posts about a target group in {region} rose to 31 in 15 minutes against about 4 expected.",
            Model = "default-1.0 (seasonal)",
        };
    }

    public static Subscription Webhook(string url, string id = "hook-1", Severity min = Severity.Low, string[]? countries = null, string[]? kinds = null) => new()
    {
        Id = id,
        Name = "Test hook " + id,
        Channel = ChannelKind.Webhook,
        Target = url,
        Secret = Secret,
        Countries = countries ?? [],
        Kinds = kinds ?? [],
        MinSeverity = min,
    };

    public static RetryPolicy FastRetry(int attempts = 4) => new()
    {
        MaxAttempts = attempts,
        InitialDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
    };
}

/// <summary>A channel that records what it was asked to send, for dispatcher tests.</summary>
internal sealed class RecordingChannel(ChannelKind kind, Func<DeliveryRequest, ChannelResult>? answer = null) : IAlertChannel
{
    private readonly Lock _gate = new();
    private readonly List<DeliveryRequest> _sent = [];

    public ChannelKind Kind => kind;

    public IReadOnlyList<DeliveryRequest> Sent
    {
        get { lock (_gate) return [.. _sent]; }
    }

    public Task<ChannelResult> SendAsync(DeliveryRequest request, CancellationToken ct)
    {
        lock (_gate) _sent.Add(request);
        return Task.FromResult(answer?.Invoke(request) ?? new ChannelResult(DeliveryStatus.Delivered, 1, "ok"));
    }
}
