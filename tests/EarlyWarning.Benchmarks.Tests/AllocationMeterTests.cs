namespace EarlyWarning.Benchmarks.Tests;

/// <summary>The meter must see an allocation when there is one, or the budget tests would pass vacuously.</summary>
public sealed class AllocationMeterTests
{
    private static object? _sink;

    [Fact]
    public void Meter_sees_a_per_operation_allocation()
    {
        var perOp = AllocationMeter.BytesPerOperation(1000, () =>
        {
            for (var i = 0; i < 1000; i++) _sink = new byte[100];
        });
        Assert.InRange(perOp, 100, 200); // 100 bytes of payload plus the array header
    }

    [Fact]
    public void Meter_reports_zero_for_a_non_allocating_loop()
    {
        var buffer = new int[64];
        var perOp = AllocationMeter.BytesPerOperation(1000, () =>
        {
            for (var i = 0; i < 1000; i++) buffer[i & 63] += i;
        });
        Assert.Equal(0, perOp);
        _sink = buffer;
    }
}
