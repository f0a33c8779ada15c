using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Tests;

namespace EarlyWarning.Signals.Tests.Delivery;

public sealed class LedgerTests
{
    private static DeliveryRecord Rec(string alert, DeliveryStatus status, Severity sev = Severity.High) =>
        new(alert, "sub", ChannelKind.Email, "a@example.org", sev, status, 1, DeliveryTestData.T0, alert, "x");

    [Fact]
    public async Task Jsonl_ledger_survives_a_torn_last_line()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "ledger.jsonl");
        using (var l = JsonlDeliveryLedger.Open(path))
        {
            await l.AppendAsync(Rec("al_1", DeliveryStatus.Delivered));
            await l.AppendAsync(Rec("al_2", DeliveryStatus.Failed));
        }
        // A crash in the middle of a write leaves half a line.
        await File.AppendAllTextAsync(path, "{\"alert_id\":\"al_3\",\"subscr");
        using (var l = JsonlDeliveryLedger.Open(path))
        {
            Assert.Equal(1, l.UnreadableLines);
            Assert.NotNull(await l.GetLastSettledAsync("al_1", "sub"));
            Assert.Null(await l.GetLastSettledAsync("al_2", "sub")); // failed is not settled
            await l.AppendAsync(Rec("al_4", DeliveryStatus.Rejected));
        }
        using (var l = JsonlDeliveryLedger.Open(path))
        {
            Assert.Equal(1, l.UnreadableLines);
            var r = await l.GetLastSettledAsync("al_4", "sub");
            Assert.Equal(DeliveryStatus.Rejected, r!.Status);
            Assert.Equal(3, (await l.GetRecordsAsync()).Count);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Latest_settled_record_wins()
    {
        var l = new InMemoryDeliveryLedger();
        await l.AppendAsync(Rec("al_1", DeliveryStatus.Delivered, Severity.Medium));
        await l.AppendAsync(Rec("al_1", DeliveryStatus.Failed, Severity.Critical));
        Assert.Equal(Severity.Medium, (await l.GetLastSettledAsync("al_1", "sub"))!.Severity);
        await l.AppendAsync(Rec("al_1", DeliveryStatus.Delivered, Severity.Critical));
        Assert.Equal(Severity.Critical, (await l.GetLastSettledAsync("al_1", "sub"))!.Severity);
        Assert.Null(await l.GetLastSettledAsync("al_1", "other"));
    }
}
