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
    // The window is sized to the region's expected rate: the fewest minutes (within [min, max]) that hold
    // DropMinExpected posts, so a busy region is tested on a short window (fast) and a quiet one on a longer one.
    /// <summary>Shortest window of the drop test, in minutes.</summary>
    public int DropMinWindowMinutes { get; init; } = 2;
    /// <summary>Longest window of the drop test; a region too quiet to expect <see cref="DropMinExpected"/> posts in it is not tested.</summary>
    public int DropMaxWindowMinutes { get; init; } = 8;
    /// <summary>Observed at most this share of the expected count (besides being significant).</summary>
    public double DropMaxRatio { get; init; } = 0.25;
    /// <summary>Posts the window must be expected to hold (at p 1e-5 the Poisson test needs ~15 to pass with a stray post or two).</summary>
    public double DropMinExpected { get; init; } = 15;
    /// <summary>Minimum <c>-log10 p</c> of the Poisson lower tail.</summary>
    public double DropThreshold { get; init; } = 5;
    public int DropWarmupMinutes { get; init; } = 60;

    // --- incitement ---
    public double IncitementMin { get; init; } = 0.5;
    public int InfluentialFollowers { get; init; } = 10_000;

    // --- emerging_term ---
    // A term is emerging when it was (almost) absent from ALL posts of the country for TermLookbackHours before its
    // burst began, and then is written (not reposted) in flagged posts by many distinct accounts, sustained over
    // several minutes (a burst inside one or two minutes is a coordinated copy, which coordination detection reports).
    /// <summary>Window of the burst test, in minutes.</summary>
    public int TermWindowMinutes { get; init; } = 10;
    /// <summary>Flagged uses in the window.</summary>
    public int TermMinUses { get; init; } = 6;
    /// <summary>Distinct accounts among those uses.</summary>
    public int TermMinAccounts { get; init; } = 5;
    /// <summary>Distinct minutes among those uses.</summary>
    public int TermMinMinutes { get; init; } = 3;
    /// <summary>How far back "absent" reaches.</summary>
    public int TermLookbackHours { get; init; } = 6;
    /// <summary>Uses in any post of the country during the lookback that still count as absent.</summary>
    public int TermMaxPriorUses { get; init; } = 2;
    /// <summary>No emerging-term alert before the vocabulary has seen this much of the stream.</summary>
    public TimeSpan TermWarmup { get; init; } = TimeSpan.FromHours(6);
    /// <summary>A burst older than this is an established term, no longer emerging.</summary>
    public TimeSpan TermMaxBurstAge { get; init; } = TimeSpan.FromHours(2);
    public int MaxTerms { get; init; } = 100_000;
    /// <summary>Bound on the all-post vocabulary (token hashes per country); the least recently used go first.</summary>
    public int MaxVocabulary { get; init; } = 1_000_000;
    public int TermMinLength { get; init; } = 3;

    // --- alert rules ---
    public TimeSpan MaxAlertWindow { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>A signal within this gap after an open alert's end extends it instead of opening a new one.</summary>
    public TimeSpan SuppressGap { get; init; } = TimeSpan.FromMinutes(10);
    public string Model { get; init; } = "earlywarning-signals/0.1";
}
