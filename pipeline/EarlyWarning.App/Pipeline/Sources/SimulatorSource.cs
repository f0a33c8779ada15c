using System.Runtime.CompilerServices;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// The simulator as a source: exactly the stream <c>simulate --scenario S --seed N</c> writes, offset = 1-based index.
/// With a speed factor, event time runs that many times faster than wall time ("accelerated real time").
/// </summary>
public sealed class SimulatorSource : IMessageSource
{
    private readonly Simulator _simulator;
    private readonly double _speed;

    public SimulatorSource(string scenario, int seed, int? posts, double speed)
    {
        _simulator = new Simulator(scenario, seed, posts);
        _speed = speed;
        Name = $"simulate:{scenario}:{seed}:{posts?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}";
    }

    public string Name { get; }
    public bool IsFinite => true;
    public GroundTruth Truth => _simulator.Truth;

    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        var pacer = _speed > 0 ? new Pacer(_speed) : null;
        long offset = 0;
        foreach (var p in _simulator.Generate())
        {
            offset++;
            if (ct.IsCancellationRequested) yield break;
            if (resumeAfter is { } r && offset <= r) continue;
            if (pacer is not null) await pacer.WaitUntilAsync(p.CreatedAt, ct).ConfigureAwait(false);
            else if ((offset & 4095) == 0) await Task.Yield();
            yield return new RawMessage(p.Json, new SourcePosition(Name, offset));
        }
    }
}
