using EarlyWarning.App.Pipeline;

namespace EarlyWarning.App.Tests.Pipeline;

public sealed class StateCheckpointIntervalTests
{
    [Theory]
    // A quick save keeps the configured interval.
    [InlineData(10_000, 0.05, 100, 10_000)]
    [InlineData(10_000, 0.05, 500, 10_000)]
    // A slow one (a dense network window) pushes the next save out so saving stays at 5 % of the time.
    [InlineData(10_000, 0.05, 800, 16_000)]
    [InlineData(10_000, 0.05, 1_500, 30_000)]
    [InlineData(10_000, 0.10, 1_500, 15_000)]
    // No bound: always the configured interval.
    [InlineData(10_000, 0, 1_500, 10_000)]
    [InlineData(200, 0.05, 5, 200)]
    public void The_next_save_waits_long_enough_for_saving_to_stay_within_its_share(int intervalMs, double share, int saveMs, int expectedMs)
    {
        var o = new PipelineOptions { StateCheckpointInterval = TimeSpan.FromMilliseconds(intervalMs), StateCheckpointMaxShare = share };
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), o.NextStateInterval(TimeSpan.FromMilliseconds(saveMs)));
    }
}

public sealed class StateHoldTimeTests
{
    [Fact]
    public void The_status_keeps_the_last_the_longest_and_the_total_time_checkpoints_held_the_analysis()
    {
        var status = new PipelineStatus();
        status.RecordStateSave(TimeSpan.FromMilliseconds(120), TimeSpan.FromMilliseconds(900), 1_000);
        status.RecordStateSave(TimeSpan.FromMilliseconds(480), TimeSpan.FromMilliseconds(1_400), 2_000);
        status.RecordStateSave(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(700), 3_000);
        Assert.Equal(3, status.StateSaves);
        Assert.Equal(TimeSpan.FromMilliseconds(200), status.LastStateHoldTime);
        Assert.Equal(TimeSpan.FromMilliseconds(480), status.LongestStateHoldTime);
        Assert.Equal(TimeSpan.FromMilliseconds(800), status.TotalStateHoldTime);
        Assert.Equal(3_000, status.LastStateBytes);
    }
}
