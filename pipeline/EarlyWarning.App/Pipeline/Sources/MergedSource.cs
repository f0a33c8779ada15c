using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// The main source (simulator, replay, Kafka) together with a side source (partner reports) for one pipeline run.
/// Messages keep their own source positions, so each source is checkpointed and resumed under its own name. The
/// merged stream ends when the main source ends: a finite main source still ends a <c>--until-end</c> run although the
/// side source never ends by itself; the side source is then stopped and hands on what it already holds.
/// </summary>
public sealed class MergedSource : IMessageSource, IAsyncDisposable
{
    private readonly IMessageSource _main;
    private readonly IMessageSource _side;
    private bool _resumed;
    private long? _mainResume;
    private long? _sideResume;

    public MergedSource(IMessageSource main, IMessageSource side)
    {
        ArgumentNullException.ThrowIfNull(main);
        ArgumentNullException.ThrowIfNull(side);
        _main = main;
        _side = side;
    }

    /// <summary>The main source's name (what the run is reading); each message carries its own source's name.</summary>
    public string Name => _main.Name;
    public bool IsFinite => _main.IsFinite;
    public IMessageSource Main => _main;
    public IMessageSource Side => _side;

    /// <summary>Each source resumes from its own position; the positions are kept for <see cref="ReadAsync"/>.</summary>
    public long? ResumeFrom(IReadOnlyDictionary<string, long> stateOffsets)
    {
        _mainResume = _main.ResumeFrom(stateOffsets);
        _sideResume = _side.ResumeFrom(stateOffsets);
        _resumed = true;
        // Reported as the run's resume point (the main stream's; the side source resumes on its own).
        return _mainResume;
    }

    /// <summary>Both sources' lag (the side source of partner reports has none).</summary>
    public IEnumerable<KeyValuePair<string, long>> Lag() => [.. _main.Lag(), .. _side.Lag()];

    public void Acknowledge(IReadOnlyDictionary<string, long> checkpoints)
    {
        _main.Acknowledge(checkpoints);
        _side.Acknowledge(checkpoints);
    }

    /// <summary>
    /// Interleaves both sources as messages arrive. <paramref name="resumeAfter"/> applies to the main source only
    /// when <see cref="ResumeFrom"/> was not called.
    /// </summary>
    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        var mainResume = _resumed ? _mainResume : resumeAfter;
        var merged = Channel.CreateBounded<RawMessage>(new BoundedChannelOptions(256) { SingleReader = true });
        // Stops the side source when the main one ends; `abandon` unblocks both pumps if the reader goes away early.
        using var sideStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var abandon = new CancellationTokenSource();
        var mainTask = PumpAsync(_main, mainResume, ct, merged.Writer, abandon.Token);
        var sideTask = PumpAsync(_side, _sideResume, sideStop.Token, merged.Writer, abandon.Token);
        var done = CompleteAsync();
        try
        {
            await foreach (var m in merged.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return m;
        }
        finally
        {
            await abandon.CancelAsync().ConfigureAwait(false);
            await sideStop.CancelAsync().ConfigureAwait(false);
            await done.ConfigureAwait(false);
        }

        async Task CompleteAsync()
        {
            Exception? failure = null;
            try { await mainTask.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            catch (Exception ex) { failure = ex; }
            finally { await sideStop.CancelAsync().ConfigureAwait(false); }
            try { await sideTask.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            catch (Exception ex) { failure ??= ex; }
            merged.Writer.TryComplete(failure);
        }
    }

    private static async Task PumpAsync(IMessageSource source, long? resumeAfter, CancellationToken stop, ChannelWriter<RawMessage> into,
        CancellationToken abandon)
    {
        await Task.Yield();
        try
        {
            await foreach (var m in source.ReadAsync(resumeAfter, stop).ConfigureAwait(false))
                await into.WriteAsync(m, abandon).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            // The reader went away; nothing more to hand on.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_main is IAsyncDisposable m) await m.DisposeAsync().ConfigureAwait(false);
        if (_side is IAsyncDisposable s) await s.DisposeAsync().ConfigureAwait(false);
    }
}
