using System.Text.Json;

namespace EarlyWarning.Signals.Detection;

/// <summary>What a detector says about one observation.</summary>
/// <param name="Score">Anomaly score, larger is more anomalous (tail detectors: <c>-log10 p</c>).</param>
/// <param name="Expected">The baseline the observation was compared with (before the observation updated it).</param>
/// <param name="Alarm">Whether the score crossed the detector's threshold.</param>
/// <param name="Rejected">Why the value was not used (not finite, negative); null when it was used.</param>
public readonly record struct DetectorResult(double Score, double Expected, bool Alarm, string? Rejected = null);

/// <summary>
/// An online detector over one regularly spaced count series. Observations arrive in time order; each is scored
/// against the baseline learnt from the observations before it, then folded into that baseline. Deterministic:
/// the same values give the same results, and a saved state restores the detector exactly.
/// </summary>
public interface IDetector
{
    /// <summary>A short stable name, e.g. <c>ewma_poisson</c>.</summary>
    string Name { get; }

    /// <summary>Observations used so far (rejected values are not counted).</summary>
    long Count { get; }

    /// <summary>Scores <paramref name="value"/> (the count of the bucket starting at <paramref name="time"/>) and learns it.</summary>
    DetectorResult Observe(DateTimeOffset time, double value);

    /// <summary>A checkpoint of the detector's state.</summary>
    byte[] SaveState();

    /// <summary>Restores a checkpoint written by <see cref="SaveState"/> of the same detector type.</summary>
    void LoadState(byte[] state);
}

/// <summary>State every detector keeps: how many observations it has used.</summary>
public class DetectorState
{
    public long N;
}

/// <summary>Shared plumbing: input validation, observation count, JSON checkpoints of a public-field state object.</summary>
public abstract class DetectorBase<TState> : IDetector where TState : DetectorState, new()
{
    private static readonly JsonSerializerOptions Json = new() { IncludeFields = true };

    /// <summary>Everything the detector learns; serialised as is by <see cref="SaveState"/>.</summary>
    protected TState S { get; private set; } = new();

    public abstract string Name { get; }

    public long Count => S.N;

    public DetectorResult Observe(DateTimeOffset time, double value)
    {
        // Counts are finite and non-negative; anything else is reported, never learnt.
        if (!double.IsFinite(value)) return new DetectorResult(0, 0, false, "value is not a finite number");
        if (value < 0) return new DetectorResult(0, 0, false, "value is negative");
        var r = Step(time, value);
        S.N++;
        return r;
    }

    /// <summary>Scores and learns one valid value; <see cref="DetectorState.N"/> is the count before it.</summary>
    protected abstract DetectorResult Step(DateTimeOffset time, double value);

    public byte[] SaveState() => JsonSerializer.SerializeToUtf8Bytes(S, Json);

    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        S = JsonSerializer.Deserialize<TState>(state, Json) ?? throw new InvalidDataException("empty detector state");
    }
}
