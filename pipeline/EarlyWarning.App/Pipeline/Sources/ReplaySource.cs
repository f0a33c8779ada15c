using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// Replays a JSONL file: one message per line, offset = 1-based line number. Lines are split on raw bytes so
/// invalid UTF-8 reaches the decoder (and the dead-letter store) unchanged. Blank lines are skipped and counted.
/// </summary>
public sealed class ReplaySource : IMessageSource
{
    private readonly string _path;
    private readonly double _speed;
    private readonly int _maxLineBytes;

    /// <param name="path">The JSONL file.</param>
    /// <param name="speed">0 = as fast as possible; otherwise event time runs this many times faster than wall time.</param>
    /// <param name="maxLineBytes">Longer lines are cut to this many bytes (they are dead-lettered as too large anyway).</param>
    public ReplaySource(string path, double speed = 0, int maxLineBytes = 1 << 20)
    {
        _path = Path.GetFullPath(path);
        _speed = speed;
        _maxLineBytes = maxLineBytes;
        if (!File.Exists(_path)) throw new FileNotFoundException($"replay file not found: {_path}", _path);
    }

    public string Name => "replay:" + _path;
    public bool IsFinite => true;

    /// <summary>Number of blank lines skipped so far (reported, not dead-lettered: a blank line holds no message).</summary>
    public long BlankLines { get; private set; }

    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true);
        var pacer = _speed > 0 ? new Pacer(_speed) : null;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        var line = new ArrayBufferWriter<byte>(4096);
        var overflow = false;
        long lineNo = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var n = await fs.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (n == 0) break;
                var start = 0;
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] != (byte)'\n') continue;
                    Append(line, buffer.AsSpan(start, i - start), ref overflow);
                    start = i + 1;
                    lineNo++;
                    var msg = TakeLine(line, lineNo, resumeAfter);
                    overflow = false;
                    if (msg is { } m)
                    {
                        if (pacer is not null) await pacer.WaitAsync(m.Bytes, ct).ConfigureAwait(false);
                        yield return m;
                        if (ct.IsCancellationRequested) yield break;
                    }
                }
                Append(line, buffer.AsSpan(start, n - start), ref overflow);
            }
            if (!ct.IsCancellationRequested && line.WrittenCount > 0)
            {
                lineNo++;
                if (TakeLine(line, lineNo, resumeAfter) is { } last) yield return last;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }

        void Append(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes, ref bool over)
        {
            var room = _maxLineBytes - w.WrittenCount;
            if (bytes.Length > room) { bytes = bytes[..Math.Max(0, room)]; over = true; }
            w.Write(bytes);
        }
    }

    private RawMessage? TakeLine(ArrayBufferWriter<byte> line, long lineNo, long? resumeAfter)
    {
        var span = line.WrittenSpan;
        if (span.Length > 0 && span[^1] == (byte)'\r') span = span[..^1];
        RawMessage? result = null;
        if (resumeAfter is null || lineNo > resumeAfter)
        {
            if (span.Trim((byte)' ').IsEmpty) BlankLines++;
            else result = new RawMessage(span.ToArray(), new SourcePosition(Name, lineNo));
        }
        line.ResetWrittenCount();
        return result;
    }
}

/// <summary>Paces a stream by its event times: event time advances <c>speed</c> times faster than wall time.</summary>
internal sealed class Pacer
{
    private readonly double _speed;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private DateTimeOffset? _firstEvent;

    public Pacer(double speed) => _speed = speed;

    public Task WaitAsync(ReadOnlyMemory<byte> json, CancellationToken ct) =>
        TryReadCreatedAt(json.Span, out var t) ? WaitUntilAsync(t, ct) : Task.CompletedTask;

    public async Task WaitUntilAsync(DateTimeOffset eventTime, CancellationToken ct)
    {
        _firstEvent ??= eventTime;
        var due = TimeSpan.FromTicks((long)((eventTime - _firstEvent.Value).Ticks / _speed));
        var ahead = due - _clock.Elapsed;
        if (ahead > TimeSpan.FromMilliseconds(15))
        {
            try { await Task.Delay(ahead, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
    }

    private static bool TryReadCreatedAt(ReadOnlySpan<byte> json, out DateTimeOffset t)
    {
        t = default;
        var i = json.IndexOf("\"created_at\""u8);
        if (i < 0) return false;
        var rest = json[(i + 12)..];
        var q = rest.IndexOf((byte)'"');
        if (q < 0) return false;
        rest = rest[(q + 1)..];
        var e = rest.IndexOf((byte)'"');
        return e > 0 && DateTimeOffset.TryParse(System.Text.Encoding.UTF8.GetString(rest[..e]),
            System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out t);
    }
}
