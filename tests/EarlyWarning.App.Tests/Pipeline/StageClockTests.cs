using System.Threading.Channels;
using EarlyWarning.App.Pipeline;

namespace EarlyWarning.App.Tests.Pipeline;

/// <summary>A stage's busy, idle and back-pressured time (<see cref="StageClock"/>), counted only while it really waits.</summary>
public sealed class StageClockTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(150);
    // The clocks read a time the tests move themselves, so a wait of 150 ms is exactly that; the bound leaves room
    // for the tick conversion.
    private static readonly TimeSpan AtLeast = TimeSpan.FromMilliseconds(130);

    /// <summary>A time source in <see cref="System.Diagnostics.Stopwatch"/> ticks that moves only when told.</summary>
    private sealed class FakeTime
    {
        private long _ticks = 1_000_000;
        public long Now() => Interlocked.Read(ref _ticks);
        public void Advance(TimeSpan t) => Interlocked.Add(ref _ticks, (long)(t.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
    }

    [Fact]
    public async Task Waiting_on_an_empty_channel_is_idle_and_a_ready_one_costs_nothing()
    {
        var time = new FakeTime();
        var clock = new StageClock("decode", time.Now);
        var channel = Channel.CreateBounded<int>(4);
        clock.Start();
        await channel.Writer.WriteAsync(1);
        Assert.True(await clock.WaitToReadAsync(channel.Reader));
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Idle]);
        Assert.True(channel.Reader.TryRead(out _));

        var waiting = clock.WaitToReadAsync(channel.Reader).AsTask();
        time.Advance(Wait);
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
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(busy, clock[StageActivity.Busy]);
        Assert.Equal(idle, clock[StageActivity.Idle]);
    }

    [Fact]
    public async Task Waiting_for_room_in_the_next_channel_is_back_pressure()
    {
        var time = new FakeTime();
        var clock = new StageClock("classify", time.Now);
        var channel = Channel.CreateBounded<int>(1);
        clock.Start();
        await clock.WriteAsync(channel.Writer, 1);
        Assert.Equal(TimeSpan.Zero, clock[StageActivity.Backpressured]);

        var handOver = clock.WriteAsync(channel.Writer, 2).AsTask();
        time.Advance(Wait);
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
        var time = new FakeTime();
        var clock = new StageClock("network", time.Now);
        clock.Start();
        time.Advance(Wait); // working
        var next = new TaskCompletionSource();
        var handOver = clock.BackPressured(new ValueTask(next.Task));
        time.Advance(Wait); // waiting on the next stage
        next.SetResult();
        await handOver;
        clock.Stop();
        Assert.True(clock[StageActivity.Busy] >= AtLeast, $"busy {clock[StageActivity.Busy]}");
        Assert.True(clock[StageActivity.Backpressured] >= AtLeast, $"back-pressured {clock[StageActivity.Backpressured]}");
        // Busy excludes the wait: not both intervals.
        Assert.True(clock[StageActivity.Busy] < Wait * 2, $"busy {clock[StageActivity.Busy]}");
        Assert.Matches(@"^network busy \d+ % \(\d+\.\d s\), idle 0 %, back-pressured \d+ %$", clock.Describe());
    }

    [Fact]
    public async Task The_busiest_stage_between_two_marks_is_the_one_that_worked_while_the_other_waited()
    {
        var time = new FakeTime();
        var working = new StageClock("network", time.Now);
        var waiting = new StageClock("decode", time.Now);
        StageClock[] clocks = [waiting, working];
        var before = StageClock.Mark(clocks);
        Assert.Null(StageClock.Busiest(clocks, before, StageClock.Mark(clocks))); // nothing ran yet
        working.Start();
        waiting.Start();
        var next = new TaskCompletionSource();
        var handOver = waiting.BackPressured(new ValueTask(next.Task));
        time.Advance(Wait); // the network stage works while decode waits on it
        next.SetResult();
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
