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
