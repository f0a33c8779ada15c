using System.Threading.Channels;
using EarlyWarning.App.Pipeline;

namespace EarlyWarning.App.Tests.Pipeline;

/// <summary>A stage's busy, idle and back-pressured time (<see cref="StageClock"/>), counted only while it really waits.</summary>
public sealed class StageClockTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(150);
    // Timer resolution: a sleep of 150 ms is never measured as much less.
    private static readonly TimeSpan AtLeast = TimeSpan.FromMilliseconds(130);

    [Fact]
    public async Task Waiting_on_an_empty_channel_is_idle_and_a_ready_one_costs_nothing()
    {
        var clock = new StageClock("decode");
        var channel = Channel.CreateBounded<int>(4);
        clock.Start();
        await channel.Writer.WriteAsync(1);
        Assert.True(await clock.WaitToReadAsync(channel.Reader));
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Idle]);
        Assert.True(channel.Reader.TryRead(out _));

        var waiting = clock.WaitToReadAsync(channel.Reader).AsTask();
        await Task.Delay(Wait);
        // The running wait is visible before it ends.
        Assert.True(clock[StageActivity.Idle] >= AtLeast, $"idle {clock[StageActivity.Idle]} while waiting");
        await channel.Writer.WriteAsync(2);
        Assert.True(await waiting);
        clock.Stop();
        var idle = clock[StageActivity.Idle];
        Assert.True(idle >= AtLeast, $"idle {idle}");
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Backpressured]);

        // Stopped: the totals no longer grow.
        var busy = clock[StageActivity.Busy];
        await Task.Delay(50);
        Assert.Equal(busy, clock[StageActivity.Busy]);
        Assert.Equal(idle, clock[StageActivity.Idle]);
    }

    [Fact]
    public async Task Waiting_for_room_in_the_next_channel_is_back_pressure()
    {
        var clock = new StageClock("classify");
        var channel = Channel.CreateBounded<int>(1);
        clock.Start();
        await clock.WriteAsync(channel.Writer, 1);
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Backpressured]);

        var handOver = clock.WriteAsync(channel.Writer, 2).AsTask();
        await Task.Delay(Wait);
        Assert.False(handOver.IsCompleted);
        Assert.True(channel.Reader.TryRead(out var first));
        Assert.Equal(1, first);
        await handOver;
        Assert.True(channel.Reader.TryRead(out var second));
        Assert.Equal(2, second);
        clock.Stop();
        Assert.True(clock[StageActivity.Backpressured] >= AtLeast, $"back-pressured {clock[StageActivity.Backpressured]}");
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Idle]);
    }

    [Fact]
    public async Task Busy_time_is_what_is_left_between_waits()
    {
        var clock = new StageClock("network");
        clock.Start();
        Thread.Sleep(Wait); // working
        await clock.BackPressured(new ValueTask(Task.Delay(Wait)));
        clock.Stop();
        Assert.True(clock[StageActivity.Busy] >= AtLeast, $"busy {clock[StageActivity.Busy]}");
        Assert.True(clock[StageActivity.Backpressured] >= AtLeast, $"back-pressured {clock[StageActivity.Backpressured]}");
        // Busy excludes the wait: not both sleeps.
        Assert.True(clock[StageActivity.Busy] < Wait * 2, $"busy {clock[StageActivity.Busy]}");
        Assert.Matches(@"^network busy \d+ % \(\d+\.\d s\), idle 0 %, back-pressured \d+ %$", clock.Describe());
    }

    [Fact]
    public async Task The_busiest_stage_between_two_marks_is_the_one_that_worked_while_the_other_waited()
    {
        var working = new StageClock("network");
        var waiting = new StageClock("decode");
        StageClock[] clocks = [waiting, working];
        var before = StageClock.Mark(clocks);
        Assert.Null(StageClock.Busiest(clocks, before, StageClock.Mark(clocks))); // nothing ran yet
        working.Start();
        waiting.Start();
        var handOver = waiting.BackPressured(new ValueTask(Task.Delay(Wait)));
        Thread.Sleep(Wait); // the network stage works while decode waits on it
        await handOver;
        working.Stop();
        waiting.Stop();
        var busiest = StageClock.Busiest(clocks, before, StageClock.Mark(clocks));
        Assert.NotNull(busiest);
        Assert.Equal("network", busiest.Value.Stage);
        Assert.InRange(busiest.Value.Share, 0.99, 1.0);
    }

    [Fact]
    public async Task A_closed_channel_still_throws_and_ends_the_wait()
    {
        var clock = new StageClock("store");
        var channel = Channel.CreateBounded<int>(1);
        clock.Start();
        await clock.WriteAsync(channel.Writer, 1);
        var handOver = clock.WriteAsync(channel.Writer, 2).AsTask();
        channel.Writer.Complete();
        await Assert.ThrowsAsync<ChannelClosedException>(() => handOver);
        Assert.Throws<ChannelClosedException>(() => clock.WriteAsync(channel.Writer, 3).GetAwaiter().GetResult());
        // Draining the last item, then the end of the channel.
        Assert.True(await clock.WaitToReadAsync(channel.Reader));
        Assert.True(channel.Reader.TryRead(out _));
        Assert.False(await clock.WaitToReadAsync(channel.Reader));
        Assert.Equal("store not started", new StageClock("store").Describe());
    }
}
