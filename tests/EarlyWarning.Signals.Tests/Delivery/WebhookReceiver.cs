using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace EarlyWarning.Signals.Tests.Delivery;

/// <summary>One request the receiver got.</summary>
internal sealed record ReceivedRequest(string Method, string Path, Dictionary<string, string> Headers, byte[] Body, int Answered);

/// <summary>
/// A webhook receiver on a local <see cref="HttpListener"/> (127.0.0.1, free port). It answers each request with the
/// next scripted status code (200 once the script is used up), optionally after a delay, and records every request.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentQueue<(int Status, TimeSpan Delay)> _script = new();
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _arrived = new(0);

    private WebhookReceiver(HttpListener listener, string url)
    {
        _listener = listener;
        Url = url;
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public static WebhookReceiver Start(params (int Status, TimeSpan Delay)[] script)
    {
        for (var tries = 0; ; tries++)
        {
            var port = FreePort();
            var url = $"http://127.0.0.1:{port}/hook/";
            var l = new HttpListener();
            l.Prefixes.Add(url);
            try
            {
                l.Start();
            }
            catch (HttpListenerException) when (tries < 5)
            {
                l.Close();
                continue;
            }
            var r = new WebhookReceiver(l, url);
            foreach (var s in script) r._script.Enqueue(s);
            return r;
        }
    }

    public static int FreePort()
    {
        using var t = new TcpListener(IPAddress.Loopback, 0);
        t.Start();
        return ((IPEndPoint)t.LocalEndpoint).Port;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived (or fails after the timeout).</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (_received.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"expected {count} webhook requests, got {_received.Count}");
            }
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        var (status, delay) = _script.TryDequeue(out var s) ? s : (200, TimeSpan.Zero);
        using var ms = new MemoryStream();
        await ctx.Request.InputStream.CopyToAsync(ms);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var k in ctx.Request.Headers.AllKeys)
            if (k is not null) headers[k] = ctx.Request.Headers[k] ?? "";
        _received.Enqueue(new ReceivedRequest(ctx.Request.HttpMethod, ctx.Request.Url?.AbsolutePath ?? "", headers, ms.ToArray(), status));
        _arrived.Release();
        try
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, _stop.Token);
            ctx.Response.StatusCode = status;
            ctx.Response.Close();
        }
        catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client gave up (timeout test) or the receiver is stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Close();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // Nothing else to do: the listener is closed.
        }
        _stop.Dispose();
        _arrived.Dispose();
    }
}
