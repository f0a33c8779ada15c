using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EarlyWarning.Signals.Tests.Delivery;

/// <summary>
/// A real SMTP server on 127.0.0.1: Debian's <c>python3-aiosmtpd</c> (<c>python3 -m aiosmtpd</c>) with its Mailbox
/// handler, which stores every message it accepts in a Maildir. Started on a free port per test class, stopped (the
/// process we started, by its handle) on dispose. tests/run.sh installs the package on a fresh machine.
/// </summary>
public sealed class SmtpServerFixture : IDisposable
{
    private readonly Process _process;

    public SmtpServerFixture()
    {
        MailDir = Path.Combine(Path.GetTempPath(), "ew-smtp-" + Guid.NewGuid().ToString("N"));
        Port = WebhookReceiver.FreePort();
        var python = FindPython();
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}", "-c", "aiosmtpd.handlers.Mailbox", MailDir })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + python);
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (Log) Log.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForPort(TimeSpan.FromSeconds(20));
    }

    public int Port { get; }
    public string MailDir { get; }
    public List<string> Log { get; } = [];

    /// <summary>The Python that has aiosmtpd: Debian's (/usr/bin/python3) first, a PATH one otherwise.</summary>
    private static string FindPython()
    {
        foreach (var p in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var check = Process.Start(new ProcessStartInfo(p, "-c \"import aiosmtpd\"") { UseShellExecute = false, RedirectStandardError = true })!;
                check.WaitForExit(15_000);
                if (check.HasExited && check.ExitCode == 0) return p;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not there; try the next.
            }
        }
        throw new InvalidOperationException("no python3 with aiosmtpd found: install the Debian package python3-aiosmtpd (tests/run.sh does)");
    }

    private void WaitForPort(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"aiosmtpd exited with {_process.ExitCode}: {string.Join(" | ", Log)}");
            using var c = new TcpClient();
            try
            {
                // A connect attempt with a short deadline is the wait: no sleep.
                if (c.ConnectAsync(IPAddress.Loopback, Port).Wait(TimeSpan.FromMilliseconds(250)) && c.Connected) return;
            }
            catch (AggregateException)
            {
                _process.WaitForExit(100);
            }
        }
        throw new TimeoutException($"aiosmtpd did not listen on 127.0.0.1:{Port} within {timeout}");
    }

    /// <summary>Raw messages in the Maildir, waiting until at least <paramref name="count"/> are there.</summary>
    public IReadOnlyList<string> WaitForMessages(int count, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        var newDir = Path.Combine(MailDir, "new");
        while (true)
        {
            var files = Directory.Exists(newDir) ? Directory.GetFiles(newDir) : [];
            if (files.Length >= count)
                return [.. files.Select(f => (Time: File.GetLastWriteTimeUtc(f), Text: File.ReadAllText(f))).OrderBy(x => x.Time).Select(x => x.Text)];
            if (sw.Elapsed > timeout) throw new TimeoutException($"expected {count} messages in {newDir}, found {files.Length}");
            _process.WaitForExit(50);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(MailDir, true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
