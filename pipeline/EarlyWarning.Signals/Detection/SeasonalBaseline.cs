namespace EarlyWarning.Signals.Detection;

/// <summary>
/// A baseline that learns a level (EWMA) and a seasonal profile by hour of day (24 cells) and hour of week
/// (168 cells). A cell is used only once it holds <c>minCellObs</c> observations; until then the caller falls back
/// to the hour-of-day cell and then to the level. Public fields so that it checkpoints as plain JSON.
/// </summary>
public sealed class SeasonalBaseline
{
    public double Level;
    public long LevelN;
    public double[] Hour = new double[24];
    public int[] HourN = new int[24];
    public double[] Week = new double[168];
    public int[] WeekN = new int[168];

    /// <summary>Folds one bucket's value into the level and its hour-of-day and hour-of-week cells.</summary>
    public void Learn(DateTimeOffset time, double value, double levelAlpha, double cellAlphaMin)
    {
        var a = Math.Max(levelAlpha, 1.0 / (LevelN + 1));
        Level += a * (value - Level);
        LevelN++;
        var utc = time.UtcDateTime;
        var h = utc.Hour;
        var w = (int)utc.DayOfWeek * 24 + h;
        Hour[h] += Math.Max(cellAlphaMin, 1.0 / (HourN[h] + 1)) * (value - Hour[h]);
        HourN[h]++;
        Week[w] += Math.Max(cellAlphaMin, 1.0 / (WeekN[w] + 1)) * (value - Week[w]);
        WeekN[w]++;
    }

    /// <summary>The seasonal expectation for <paramref name="time"/> if a cell is ready (hour of week first, then hour of day).</summary>
    public bool TrySeasonal(DateTimeOffset time, int minCellObs, out double seasonal)
    {
        var utc = time.UtcDateTime;
        var h = utc.Hour;
        var w = (int)utc.DayOfWeek * 24 + h;
        if (WeekN[w] >= minCellObs) { seasonal = Week[w]; return true; }
        if (HourN[h] >= minCellObs) { seasonal = Hour[h]; return true; }
        seasonal = 0;
        return false;
    }

    /// <summary>Expectation for a rise test: the larger of level and seasonal (a late-learnt surge is not an anomaly).</summary>
    public double UpperExpected(DateTimeOffset time, int minCellObs) =>
        TrySeasonal(time, minCellObs, out var s) ? Math.Max(s, Level) : Level;

    /// <summary>Expectation for a drop test: the smaller of level and seasonal (a quiet hour is not a shutdown).</summary>
    public double LowerExpected(DateTimeOffset time, int minCellObs) =>
        TrySeasonal(time, minCellObs, out var s) ? Math.Min(s, Level) : Level;
}
