using System.Diagnostics;
using System.Threading.Channels;

namespace EarlyWarning.App.Pipeline;

/// <summary>What a pipeline stage is doing at an instant, for <see cref="StageClock"/>.</summary>
public enum StageActivity
{
    /// <summary>Working on what it holds (its own I/O included: the store's transaction, the source's read of a file it has).</summary>
    Busy,
    /// <summary>Waiting for input: the stage before it (or the source) has nothing for it.</summary>
    Idle,
    /// <summary>Waiting for the next stage to take its output (its channel is full): held back by a slower stage after it.</summary>
    Backpressured,
}

/// <summary>
/// Wall-clock time one stage of the pipeline has spent busy, idle (waiting for input) and back-pressured (waiting for
/// the next stage to take its output). A stage busy nearly all the time while the stages before it are back-pressured
/// and the ones after it idle is the stage that bounds throughput. Only time actually spent waiting counts as waiting:
/// a read or a hand-over that completes at once does not change the state, so the accounting costs two timestamps per
/// change of state, not per item.
/// </summary>
/// <remarks>
/// One stage (one logical thread of control) changes the state; any thread may read the totals. A total includes the
/// running segment, so a stage stuck waiting shows its wait growing before the wait ends.
/// </remarks>
public sealed class StageClock
{
    private readonly object _gate = new();
    private readonly long[] _ticks = new long[3];
    private StageActivity _state;
    private long _since;
    private bool _running;
    private readonly Func<long> _now;

    /// <param name="stage">The stage's name.</param>
    /// <param name="timestamp">
    /// The time source in <see cref="Stopwatch"/> ticks; <see cref="Stopwatch.GetTimestamp"/> when null (tests pass a
    /// clock they move themselves).
    /// </param>
    public StageClock(string stage, Func<long>? timestamp = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stage);
        Stage = stage;
        _now = timestamp ?? Stopwatch.GetTimestamp;
    }

    /// <summary>The stage's name (<c>read</c>, <c>decode</c>, <c>classify</c>, <c>network</c>, <c>signals</c>, <c>store</c>).</summary>
    public string Stage { get; }

    /// <summary>Starts the clock in <see cref="StageActivity.Busy"/> (no-op when already running).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_running) return;
            _running = true;
            _state = StageActivity.Busy;
            _since = _now();
        }
    }

    /// <summary>Ends the running segment; the totals stop growing.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (!_running) return;
            _ticks[(int)_state] += _now() - _since;
            _running = false;
        }
    }

    /// <summary>Charges the time since the last change to the state the stage was in, and enters <paramref name="state"/>.</summary>
    public void Enter(StageActivity state)
    {
        var now = _now();
        lock (_gate)
        {
            if (_running) _ticks[(int)_state] += now - _since;
            _running = true;
            _state = state;
            _since = now;
        }
    }

    /// <summary>Time spent in <paramref name="state"/> so far, the running segment included.</summary>
    public TimeSpan this[StageActivity state]
    {
        get
        {
            lock (_gate)
            {
                var t = _ticks[(int)state];
                if (_running && _state == state) t += _now() - _since;
                return Stopwatch.GetElapsedTime(0, t);
            }
        }
    }

    /// <summary>
    /// <see cref="ChannelReader{T}.WaitToReadAsync"/>, counting the time as idle only when the channel was empty (the
    /// stage is busy again when it returns).
    /// </summary>
    public ValueTask<bool> WaitToReadAsync<T>(ChannelReader<T> reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var wait = reader.WaitToReadAsync(cancellationToken);
        return wait.IsCompletedSuccessfully ? wait : Waited(wait);
    }

    /// <summary>
    /// <see cref="IAsyncEnumerator{T}.MoveNextAsync"/> of a source, counting the time as idle only when the source had
    /// nothing ready.
    /// </summary>
    public ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var next = source.MoveNextAsync();
        return next.IsCompletedSuccessfully ? next : Waited(next);
    }

    private async ValueTask<bool> Waited(ValueTask<bool> wait)
    {
        Enter(StageActivity.Idle);
        try { return await wait.ConfigureAwait(false); }
        finally { Enter(StageActivity.Busy); }
    }

    /// <summary>
    /// Hands <paramref name="item"/> to the next stage: at once when its channel has room, otherwise waiting for room
    /// (that wait counted as back-pressure). Throws as <see cref="ChannelWriter{T}.WriteAsync"/> does when the channel
    /// is closed.
    /// </summary>
    public ValueTask WriteAsync<T>(ChannelWriter<T> writer, T item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return writer.TryWrite(item) ? default : BackPressured(writer.WriteAsync(item, cancellationToken));
    }

    /// <summary>Awaits <paramref name="handOver"/> (a hand-over to something after this stage), counting its time as back-pressure.</summary>
    public ValueTask BackPressured(ValueTask handOver) => handOver.IsCompletedSuccessfully ? default : Wait(handOver);

    private async ValueTask Wait(ValueTask handOver)
    {
        Enter(StageActivity.Backpressured);
        try { await handOver.ConfigureAwait(false); }
        finally { Enter(StageActivity.Busy); }
    }

    /// <summary>Busy and total (busy + idle + back-pressured) seconds of each clock now, for <see cref="Busiest"/>.</summary>
    public static (double Busy, double Total)[] Mark(IReadOnlyList<StageClock> clocks)
    {
        ArgumentNullException.ThrowIfNull(clocks);
        var mark = new (double Busy, double Total)[clocks.Count];
        for (var i = 0; i < mark.Length; i++)
        {
            var busy = clocks[i][StageActivity.Busy].TotalSeconds;
            mark[i] = (busy, busy + clocks[i][StageActivity.Idle].TotalSeconds + clocks[i][StageActivity.Backpressured].TotalSeconds);
        }
        return mark;
    }

    /// <summary>
    /// The stage busy for the largest share of its time between two marks of the same clocks, and that share (0–1);
    /// null when no stage ran in between.
    /// </summary>
    public static (string Stage, double Share)? Busiest(IReadOnlyList<StageClock> clocks, (double Busy, double Total)[] before, (double Busy, double Total)[] now)
    {
        ArgumentNullException.ThrowIfNull(clocks);
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        (string, double)? best = null;
        for (var i = 0; i < clocks.Count && i < before.Length && i < now.Length; i++)
        {
            var total = now[i].Total - before[i].Total;
            if (total <= 0) continue;
            var share = (now[i].Busy - before[i].Busy) / total;
            if (best is null || share > best.Value.Item2) best = (clocks[i].Stage, share);
        }
        return best;
    }

    /// <summary>One line, e.g. <c>network busy 97 % (39.1 s), idle 2 %, back-pressured 1 %</c>.</summary>
    public string Describe()
    {
        var busy = this[StageActivity.Busy];
        var idle = this[StageActivity.Idle];
        var back = this[StageActivity.Backpressured];
        var total = (busy + idle + back).TotalSeconds;
        if (total <= 0) return Stage + " not started";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Stage} busy {busy.TotalSeconds / total:P0} ({busy.TotalSeconds:F1} s), idle {idle.TotalSeconds / total:P0}, back-pressured {back.TotalSeconds / total:P0}");
    }
}
