using System.Text;
using System.Text.Json;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Kafka.Sinks;

namespace EarlyWarning.Kafka.Tests;

public sealed class KafkaSinkTests : IClassFixture<MockClusterFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly MockClusterFixture _k;

    public KafkaSinkTests(MockClusterFixture fixture) => _k = fixture;

    private KafkaSinkOptions Options(string topic) => new() { BootstrapServers = _k.Bootstrap, Topic = topic };

    private static string Header(Confluent.Kafka.Headers headers, string key) => Encoding.UTF8.GetString(headers.GetLastBytes(key));

    [Fact]
    public async Task Dead_letters_keep_the_original_bytes_and_carry_reason_source_and_offset_headers()
    {
        var topic = _k.NewTopic(3);
        var at = new DateTimeOffset(2026, 11, 8, 6, 15, 3, TimeSpan.Zero);
        var letters = new List<DeadLetter>
        {
            new(new SourcePosition("kafka:posts/2", 41), DeadLetterReasons.InvalidUtf8, new byte[] { 0x7B, 0xFF, 0xFE, 0x7D }, at),
            new(new SourcePosition("kafka:posts/0", 7), DeadLetterReasons.MissingField("author.id"), "{\"id\":\"x\"}"u8.ToArray(), at),
            new(new SourcePosition("replay:/tmp/a.jsonl", 3), DeadLetterReasons.InvalidJson, Array.Empty<byte>(), at),
        };
        using (var sink = new KafkaDeadLetterSink(Options(topic)))
        {
            await sink.WriteAsync(letters);
            Assert.Equal(3, sink.Produced);
        }

        var records = _k.ReadAll(topic, 3, letters.Count, Long);
        Assert.Equal(letters.Count, records.Count);
        foreach (var d in letters)
        {
            var r = Assert.Single(records, r => Header(r.Message.Headers, KafkaDeadLetterSink.SourceHeader) == d.Position.Source);
            Assert.Equal(d.Bytes.ToArray(), r.Message.Value ?? []);
            Assert.Equal(d.Reason, Header(r.Message.Headers, KafkaDeadLetterSink.ReasonHeader));
            Assert.Equal(d.Position.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(r.Message.Headers, KafkaDeadLetterSink.OffsetHeader));
            Assert.Equal(at, DateTimeOffset.Parse(Header(r.Message.Headers, KafkaDeadLetterSink.ReceivedAtHeader), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal($"{d.Position.Source}@{d.Position.Offset}", Encoding.UTF8.GetString(r.Message.Key!));
        }
    }

    private static Alert MakeAlert(string region, Severity severity, string status = AlertStatus.New)
    {
        var scope = new Scope("MM", region, "rohingya", "my", null);
        var start = new DateTimeOffset(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);
        return new Alert
        {
            Id = Alert.MakeId(AlertKinds.VolumeSpike, scope, start),
            Kind = AlertKinds.VolumeSpike,
            Severity = severity,
            Score = 7.25,
            WindowStart = start,
            WindowEnd = start.AddMinutes(15),
            DetectedAt = start.AddMinutes(4),
            Scope = scope,
            Baseline = 3.5,
            Observed = 41,
            Evidence = new Evidence { PostIds = ["sim:1", "sim:2"], TopTerms = ["term"], Accounts = ["p_ab12"], Excerpts = ["..."] },
            Explanation = "Hateful posts against a group rose far above the usual level for this hour.",
            Model = "default@1",
            Status = status,
            Audit = status == AlertStatus.New ? [] : [new AuditEntry(start.AddHours(1), "analyst", status, null)],
        };
    }

    [Fact]
    public async Task Alerts_are_json_keyed_by_alert_id_and_updates_share_the_partition()
    {
        var topic = _k.NewTopic(6);
        var a = MakeAlert("Rakhine", Severity.High);
        var b = MakeAlert("Yangon", Severity.Medium);
        var aUpdated = MakeAlert("Rakhine", Severity.Critical, AlertStatus.Escalated);
        using (var sink = new KafkaAlertSink(Options(topic)))
        {
            await sink.WriteAsync([a, b]);
            await sink.WriteAsync([aUpdated]);
        }

        var records = _k.ReadAll(topic, 6, 3, Long);
        Assert.Equal(3, records.Count);
        var byKey = records.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(2, byKey[a.Id].Count);
        Assert.Single(byKey[a.Id].Select(r => r.Partition.Value).Distinct());
        var latest = AlertJson.Deserialize(byKey[a.Id].MaxBy(r => r.Offset.Value)!.Message.Value);
        Assert.Equal(Severity.Critical, latest.Severity);
        Assert.Equal(AlertStatus.Escalated, latest.Status);
        Assert.Single(latest.Audit);

        var readB = AlertJson.Deserialize(Assert.Single(byKey[b.Id]).Message.Value);
        Assert.Equal(b.Id, readB.Id);
        Assert.Equal(b.Scope, readB.Scope);
        Assert.Equal(b.WindowStart, readB.WindowStart);
        Assert.Equal(b.WindowEnd, readB.WindowEnd);
        Assert.Equal(b.Evidence.PostIds, readB.Evidence.PostIds);
        Assert.Equal(b.Score, readB.Score);
        using var doc = JsonDocument.Parse(Assert.Single(byKey[b.Id]).Message.Value);
        Assert.Equal("rohingya", doc.RootElement.GetProperty("scope").GetProperty("target_group").GetString());
        Assert.Equal("medium", doc.RootElement.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Enriched_posts_are_keyed_by_series_so_each_region_lives_on_one_partition()
    {
        var topic = _k.NewTopic(6);
        string[] regions = ["Rakhine", "Yangon", "Mandalay", "Western", "Nairobi"];
        var posts = new List<PostEnvelope>();
        for (var i = 0; i < 200; i++)
        {
            var region = regions[i % regions.Length];
            var json = $"{{\"id\":\"sim:{i}\",\"created_at\":\"2026-11-08T06:15:03Z\",\"author\":{{\"id\":\"u:{i % 7}\"}},\"text\":\"t\",\"geo\":{{\"country\":\"XX\",\"region\":\"{region}\"}}}}";
            Assert.True(new PostDecoder().TryDecode(Encoding.UTF8.GetBytes(json), out var post, out _));
            posts.Add(new PostEnvelope
            {
                Post = post!,
                Position = new SourcePosition("kafka:posts/1", i),
                Decision = new Decision { PostId = post!.Id, Label = i % 3 == 0 ? Labels.Hate : Labels.None, Model = "default@1" },
            });
        }
        using (var sink = new KafkaEnrichedPostSink(Options(topic))) await sink.WriteAsync(posts);

        var records = _k.ReadAll(topic, 6, posts.Count, Long);
        Assert.Equal(posts.Count, records.Count);
        foreach (var g in records.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)))
            Assert.Single(g.Select(r => r.Partition.Value).Distinct());
        Assert.Equal(regions.Length, records.Select(r => Encoding.UTF8.GetString(r.Message.Key!)).Distinct().Count());
        var ids = new HashSet<string>();
        foreach (var r in records)
        {
            using var doc = JsonDocument.Parse(r.Message.Value);
            var id = doc.RootElement.GetProperty("post").GetProperty("id").GetString()!;
            ids.Add(id);
            var i = int.Parse(id[4..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(i % 3 == 0 ? Labels.Hate : Labels.None, doc.RootElement.GetProperty("decision").GetProperty("label").GetString());
            Assert.Equal("XX/" + regions[i % regions.Length], Encoding.UTF8.GetString(r.Message.Key!));
        }
        Assert.Equal(posts.Count, ids.Count);
    }

    [Fact]
    public async Task A_sink_that_cannot_deliver_fails_with_a_reason_instead_of_dropping()
    {
        // Nothing listens on this port: delivery times out and the write reports it.
        var options = new KafkaSinkOptions { BootstrapServers = "127.0.0.1:1", Topic = "alerts", DeliveryTimeout = TimeSpan.FromSeconds(2) };
        using var sink = new KafkaAlertSink(options);
        var e = await Assert.ThrowsAsync<KafkaSinkException>(() => sink.WriteAsync([MakeAlert("Shan", Severity.Low)]));
        Assert.Equal(1, e.Failed);
        Assert.Equal(0, sink.Produced);
    }
}
