namespace EarlyWarning.Signals.Engine;

/// <summary>Settings of the <see cref="SignalEngine"/>; every duration is event time.</summary>
public sealed record SignalOptions
{
    /// <summary>Watermark = largest event time seen minus this; a bucket closes when the watermark passes its end.</summary>
    public TimeSpan Lateness { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Most series kept per family (hateful volume, regional traffic); the least recently used go first.</summary>
    public int MaxSeries { get; init; } = 5000;

    /// <summary>A hateful-volume series with no post for this long is evicted.</summary>
    public TimeSpan SeriesIdle { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Width of the 5-minute dashboard aggregates.</summary>
    public int AggregateMinutes { get; init; } = 5;

    /// <summary>Closed aggregates kept this long so that a late post re-emits its bucket with the corrected total.</summary>
    public TimeSpan AggregateRetention { get; init; } = TimeSpan.FromHours(2);

    // --- baselines (per-minute counts) ---
    public double LevelAlpha { get; init; } = 1.0 / 60;
    public double CellAlphaMin { get; init; } = 1.0 / 120;
    /// <summary>Minutes a seasonal (hour-of-day / hour-of-week) cell needs before it is used.</summary>
    public int MinCellObs { get; init; } = 45;

    // --- volume_spike ---
    /// <summary>No spike alert during the first minutes of a stream, while every baseline is still empty.</summary>
    public TimeSpan SpikeWarmup { get; init; } = TimeSpan.FromMinutes(30);
    public int SpikeWindowMinutes { get; init; } = 5;
    /// <summary>Minimum <c>-log10 p</c> of the negative-binomial upper tail.</summary>
    public double SpikeThreshold { get; init; } = 6;
    public int SpikeMinCount { get; init; } = 8;
    /// <summary>Negative-binomial size: variance = mean + mean²/size.</summary>
    public double SpikeDispersion { get; init; } = 20;
    public double SpikeFloorPerMinute { get; init; } = 0.05;
    /// <summary>While a series is alarming its baseline holds, for at most this long (then it adapts to a new level).</summary>
    public TimeSpan MaxBaselineFreeze { get; init; } = TimeSpan.FromHours(2);

    // --- volume_drop ---
    public int DropWindowMinutes { get; init; } = 4;
    public double DropMaxRatio { get; init; } = 0.2;
    public double DropMinExpected { get; init; } = 20;
    public double DropThreshold { get; init; } = 4;
    public int DropWarmupMinutes { get; init; } = 60;

    // --- incitement ---
    public double IncitementMin { get; init; } = 0.5;
    public int InfluentialFollowers { get; init; } = 10_000;

    // --- emerging_term ---
    public int TermWindowMinutes { get; init; } = 60;
    public int TermMinUses { get; init; } = 15;
    public int TermMinAccounts { get; init; } = 8;
    public int TermLookbackHours { get; init; } = 6;
    public int TermMaxPriorUses { get; init; } = 2;
    public TimeSpan TermWarmup { get; init; } = TimeSpan.FromHours(6);
    public int MaxTerms { get; init; } = 100_000;
    public int TermMinLength { get; init; } = 2;

    // --- alert rules ---
    public TimeSpan MaxAlertWindow { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>A signal within this gap after an open alert's end extends it instead of opening a new one.</summary>
    public TimeSpan SuppressGap { get; init; } = TimeSpan.FromMinutes(10);
    public string Model { get; init; } = "earlywarning-signals/0.1";
}
