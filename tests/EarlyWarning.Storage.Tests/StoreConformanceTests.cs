using System.Diagnostics;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Storage;

namespace EarlyWarning.Storage.Tests;

/// <summary>
/// What every <see cref="IPipelineStore"/> must do. Each store's test class subclasses this and supplies a fresh store;
/// the facts run once per subclass.
/// </summary>
public abstract class StoreConformanceTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 8, 6, 0, 0, TimeSpan.Zero);

    // Neutral vocabulary: the store is tested on structure, not on hateful text.
    private static readonly string[] Words = ["market", "river", "harvest", "bridge", "lantern", "school", "rain", "festival", "road", "garden"];

    /// <summary>A fresh, empty, initialised store that no other test sees.</summary>
    protected abstract Task<IPipelineStore> CreateStoreAsync();

    /// <summary>Disposes <paramref name="store"/> and opens a new instance over the same data.</summary>
    protected abstract Task<IPipelineStore> ReopenAsync(IPipelineStore store);

    /// <summary>Whether a reader can never observe half a batch (true for transactional stores).</summary>
    protected virtual bool AtomicBatches => true;

    protected static PostEnvelope MakePost(int n, string? text = null, string label = Labels.None, string country = "MM",
        string region = "Rakhine", string source = "test:src", float incitement = 0f)
    {
        var id = "t:" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        text ??= $"{Words[n % Words.Length]} {Words[(n / 10) % Words.Length]} post {n}";
        var post = new Post
        {
            Id = id,
            Platform = "twitter",
            CreatedAt = T0.AddSeconds(n),
            AuthorId = "ps_author" + (n % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Text = text,
            Lang = "en",
            Country = country,
            Region = region,
            Raw = System.Text.Encoding.UTF8.GetBytes("{\"id\":\"" + id + "\",\"extra\":{\"k\":1}}"),
        };
        var decision = new Decision
        {
            PostId = id,
            Label = label,
            Scores = label == Labels.Hate ? [0.1f, 0.2f, 0.7f] : [0.8f, 0.15f, 0.05f],
            Incitement = incitement,
            Target = label == Labels.None ? null : "journalists",
            Explanation = label == Labels.None ? [] : ["w:" + Words[n % Words.Length]],
            Terms = [],
            Model = "test-model@1",
        };
        return new PostEnvelope { Post = post, Position = new SourcePosition(source, n), Decision = decision };
    }

    protected static Alert MakeAlert(string kind = AlertKinds.VolumeSpike, string country = "MM", string region = "Rakhine",
        string? target = "journalists", int startMinutes = 0, Severity severity = Severity.Medium, double score = 3)
    {
        var scope = new Scope(country, region, target, "en", null);
        var start = T0.AddMinutes(startMinutes);
        return new Alert
        {
            Id = Alert.MakeId(kind, scope, start),
            Kind = kind,
            Severity = severity,
            Score = score,
            WindowStart = start,
            WindowEnd = start.AddMinutes(5),
            DetectedAt = start.AddMinutes(3),
            Scope = scope,
            Baseline = 2,
            Observed = 20,
            Evidence = new Evidence { PostIds = ["t:1", "t:2"], TopTerms = ["market"], Accounts = ["ps_author1"], Excerpts = ["market river"] },
            Explanation = "Posts about journalists rose well above the usual level.",
            Model = "test-model@1",
        };
    }

    /// <summary>100 posts (20 flagged), two dead letters, an alert, aggregates and a checkpoint.</summary>
    protected static StoreBatch MakeMixedBatch()
    {
        var b = new StoreBatch();
        for (var i = 0; i < 100; i++) b.Posts.Add(MakePost(i, label: i % 5 == 0 ? Labels.Hate : Labels.None));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("test:src", 1000), DeadLetterReasons.InvalidJson, new byte[] { 0x7b, 0x7b }, T0));
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("test:src", 1001), DeadLetterReasons.InvalidUtf8, new byte[] { 0xff, 0xfe, 0x00 }, T0));
        b.Alerts.Add(MakeAlert());
        b.Aggregates.Add(new SeriesPoint(T0, "MM", "Rakhine", "journalists", Labels.Hate, 20));
        b.Checkpoints["test:src"] = 1001;
        b.State["signals"] = new byte[] { 1, 2, 3 };
        return b;
    }

    [Fact]
    public async Task Writing_the_same_batch_twice_stores_it_once()
    {
        await using var store = await CreateStoreAsync();
        var batch = MakeMixedBatch();
        await store.WriteAsync(batch);
        var first = await store.GetCountsAsync();
        await store.WriteAsync(batch);
        var second = await store.GetCountsAsync();

        Assert.Equal(new StoreCounts(100, 20, 1, 2, 0), first);
        Assert.Equal(first, second);
        Assert.Equal(20, (await store.GetTimelineAsync(new TimelineQuery())).Single().Count);
        var found = await store.SearchPostsAsync("harvest", 1000);
        Assert.Equal(19, found.Count); // first word of n % 10 == 2, or second word of n in 20..29; each post found once
        Assert.Equal(found.Count, found.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_post_and_its_decision_round_trip()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        var env = MakePost(42, label: Labels.Hate, incitement: 0.75f);
        b.Posts.Add(env);
        b.Posts.Add(new PostEnvelope { Post = MakePost(43).Post, Position = new SourcePosition("s", 43) }); // no decision yet
        await store.WriteAsync(b);

        var p = await store.GetPostAsync("t:42");
        Assert.NotNull(p);
        Assert.Equal(env.Post.Text, p.Text);
        Assert.Equal(env.Post.CreatedAt, p.CreatedAt);
        Assert.Equal(env.Post.AuthorId, p.Author);
        Assert.Equal(("en", "MM", "Rakhine"), (p.Lang, p.Country, p.Region));
        Assert.Equal(Labels.Hate, p.Label);
        Assert.Equal(env.Decision!.Scores, p.Scores);
        Assert.Equal("journalists", p.Target);
        Assert.Equal(0.75f, p.Incitement);
        Assert.Equal(env.Decision.Explanation, p.Explanation);
        Assert.Equal("test-model@1", p.Model);

        var bare = await store.GetPostAsync("t:43");
        Assert.NotNull(bare);
        Assert.Null(bare.Label);
        Assert.Null(await store.GetPostAsync("t:missing"));
        Assert.Equal(2, (await store.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Alert_upsert_refreshes_detection_fields_but_keeps_status_and_audit()
    {
        await using var store = await CreateStoreAsync();
        var first = MakeAlert();
        var b = new StoreBatch();
        b.Alerts.Add(first);
        await store.WriteAsync(b);
        Assert.True(await store.UpdateAlertStatusAsync(first.Id, AlertStatus.Acknowledged, "analyst-1", "seen"));

        var later = MakeAlert(severity: Severity.High, score: 9);
        later.WindowEnd = first.WindowEnd.AddMinutes(10);
        later.Observed = 55;
        later.Evidence = new Evidence { PostIds = ["t:1", "t:2", "t:3"] };
        later.Explanation = "Still rising.";
        Assert.Equal(first.Id, later.Id);
        Assert.Equal(AlertStatus.New, later.Status);
        var b2 = new StoreBatch();
        b2.Alerts.Add(later);
        await store.WriteAsync(b2);

        var stored = await store.GetAlertAsync(first.Id);
        Assert.NotNull(stored);
        Assert.Equal(AlertStatus.Acknowledged, stored.Status);
        Assert.Single(stored.Audit);
        Assert.Equal(first.WindowStart, stored.WindowStart);
        Assert.Equal(later.WindowEnd, stored.WindowEnd);
        Assert.Equal(Severity.High, stored.Severity);
        Assert.Equal(9, stored.Score);
        Assert.Equal(55, stored.Observed);
        Assert.Equal(["t:1", "t:2", "t:3"], stored.Evidence.PostIds);
        Assert.Equal("Still rising.", stored.Explanation);
        Assert.Equal(first.DetectedAt, stored.DetectedAt);
        Assert.Equal(first.Scope, stored.Scope);
        Assert.Equal(1, (await store.GetCountsAsync()).Alerts);
    }

    [Fact]
    public async Task Status_updates_are_validated_and_audited_in_order()
    {
        await using var store = await CreateStoreAsync();
        var a = MakeAlert();
        var b = new StoreBatch();
        b.Alerts.Add(a);
        await store.WriteAsync(b);

        Assert.True(await store.UpdateAlertStatusAsync(a.Id, AlertStatus.Escalated, "analyst-1", "sent to field team"));
        Assert.True(await store.UpdateAlertStatusAsync(a.Id, AlertStatus.Dismissed, "analyst-2", null));
        Assert.False(await store.UpdateAlertStatusAsync("al_nope", AlertStatus.Acknowledged, "analyst-1", null));
        await Assert.ThrowsAsync<ArgumentException>(() => store.UpdateAlertStatusAsync(a.Id, "deleted", "analyst-1", null));

        var stored = await store.GetAlertAsync(a.Id);
        Assert.NotNull(stored);
        Assert.Equal(AlertStatus.Dismissed, stored.Status);
        Assert.Equal(2, stored.Audit.Count);
        Assert.Equal(("analyst-1", AlertStatus.Escalated, "sent to field team"), (stored.Audit[0].Actor, stored.Audit[0].Action, stored.Audit[0].Note));
        Assert.Equal(("analyst-2", AlertStatus.Dismissed, (string?)null), (stored.Audit[1].Actor, stored.Audit[1].Action, stored.Audit[1].Note));
        Assert.True(stored.Audit[0].At <= stored.Audit[1].At);

        var listed = Assert.Single(await store.GetAlertsAsync(new AlertQuery(Status: AlertStatus.Dismissed)));
        Assert.Equal(2, listed.Audit.Count);
        Assert.Empty(await store.GetAlertsAsync(new AlertQuery(Status: AlertStatus.New)));
    }

    [Fact]
    public async Task Alert_queries_apply_every_filter_and_return_newest_first()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        b.Alerts.Add(MakeAlert(startMinutes: 0, severity: Severity.Low));
        b.Alerts.Add(MakeAlert(startMinutes: 30, severity: Severity.High));
        b.Alerts.Add(MakeAlert(region: "Yangon", startMinutes: 60, severity: Severity.Critical));
        b.Alerts.Add(MakeAlert(kind: AlertKinds.Incitement, country: "KE", region: "Nairobi", startMinutes: 90, severity: Severity.Medium));
        await store.WriteAsync(b);

        var all = await store.GetAlertsAsync(new AlertQuery());
        Assert.Equal([90, 60, 30, 0], all.Select(a => (int)(a.WindowStart - T0).TotalMinutes));
        Assert.Equal(3, (await store.GetAlertsAsync(new AlertQuery(Country: "MM"))).Count);
        Assert.Equal(2, (await store.GetAlertsAsync(new AlertQuery(Country: "MM", Region: "Rakhine"))).Count);
        Assert.Equal("KE", Assert.Single(await store.GetAlertsAsync(new AlertQuery(Kind: AlertKinds.Incitement))).Scope.Country);
        Assert.Equal(2, (await store.GetAlertsAsync(new AlertQuery(MinSeverity: Severity.High))).Count);
        // Windows are 5 minutes long; [T0+32, T0+61] overlaps the windows starting at 30 and 60.
        var window = await store.GetAlertsAsync(new AlertQuery(From: T0.AddMinutes(32), To: T0.AddMinutes(61)));
        Assert.Equal([60, 30], window.Select(a => (int)(a.WindowStart - T0).TotalMinutes));
        Assert.Equal(2, (await store.GetAlertsAsync(new AlertQuery(Limit: 2))).Count);
        Assert.Empty(await store.GetAlertsAsync(new AlertQuery(Country: "LK")));

        var one = all[^1];
        Assert.Equal(["t:1", "t:2"], one.Evidence.PostIds);
        Assert.Equal("market river", Assert.Single(one.Evidence.Excerpts));
        Assert.Equal("test-model@1", one.Model);
    }

    [Fact]
    public async Task Timeline_sums_over_free_dimensions_per_bucket_and_upserts_replace_counts()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        var t1 = T0.AddMinutes(5);
        b.Aggregates.Add(new SeriesPoint(t1, "MM", "Rakhine", "rohingya", Labels.Hate, 7));
        b.Aggregates.Add(new SeriesPoint(T0, "MM", "Rakhine", "rohingya", Labels.Hate, 3));
        b.Aggregates.Add(new SeriesPoint(T0, "MM", "Rakhine", "journalists", Labels.Offensive, 4));
        b.Aggregates.Add(new SeriesPoint(T0, "MM", "Yangon", "rohingya", Labels.Hate, 5));
        b.Aggregates.Add(new SeriesPoint(T0, "KE", "Nairobi", "journalists", Labels.Hate, 11));
        await store.WriteAsync(b);

        var all = await store.GetTimelineAsync(new TimelineQuery());
        Assert.Equal([(T0, 23L), (t1, 7L)], all.Select(p => (p.BucketStart, p.Count)));
        Assert.All(all, p => Assert.Equal((StoreConventions.AnyValue, StoreConventions.AnyValue), (p.Country, p.Label)));

        var mm = await store.GetTimelineAsync(new TimelineQuery(Country: "MM"));
        Assert.Equal([12L, 7L], mm.Select(p => p.Count));
        Assert.All(mm, p => Assert.Equal("MM", p.Country));
        Assert.Equal([7L, 7L], (await store.GetTimelineAsync(new TimelineQuery(Country: "MM", Region: "Rakhine"))).Select(p => p.Count));
        Assert.Equal([8L, 7L], (await store.GetTimelineAsync(new TimelineQuery(TargetGroup: "rohingya"))).Select(p => p.Count));
        Assert.Equal([19L, 7L], (await store.GetTimelineAsync(new TimelineQuery(Label: Labels.Hate))).Select(p => p.Count));
        Assert.Equal([(t1, 7L)], (await store.GetTimelineAsync(new TimelineQuery(From: t1))).Select(p => (p.BucketStart, p.Count)));
        Assert.Equal([23L], (await store.GetTimelineAsync(new TimelineQuery(To: t1))).Select(p => p.Count));

        var fix = new StoreBatch();
        fix.Aggregates.Add(new SeriesPoint(T0, "KE", "Nairobi", "journalists", Labels.Hate, 1));
        await store.WriteAsync(fix);
        Assert.Equal(13L, (await store.GetTimelineAsync(new TimelineQuery())).First().Count);
    }

    [Fact]
    public async Task Search_finds_words_and_survives_query_syntax_in_user_input()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        b.Posts.Add(MakePost(1, "the harvest festival by the river"));
        b.Posts.Add(MakePost(2, "Harvest day at the market"));
        b.Posts.Add(MakePost(3, "rain on the road"));
        await store.WriteAsync(b);

        var harvest = await store.SearchPostsAsync("harvest", 10);
        Assert.Equal(["t:2", "t:1"], harvest.Select(p => p.Id)); // newest first, case-insensitive
        Assert.Equal(["t:1"], (await store.SearchPostsAsync("river harvest", 10)).Select(p => p.Id));
        Assert.Single(await store.SearchPostsAsync("harvest", 1));
        Assert.Empty(await store.SearchPostsAsync("volcano", 10));
        Assert.Empty(await store.SearchPostsAsync("", 10));
        Assert.Empty(await store.SearchPostsAsync("harvest", 0));

        string[] hostile = ["\"harvest", "harvest\"", "harvest)", "(harvest", "harvest*", "NEAR(harvest river)", "harvest AND",
            "OR", "NOT harvest", "text:harvest", "^harvest", "\"", "'", "*", "-harvest", "harvest'; DROP TABLE posts; --", "{text}: x", "%", "_"];
        foreach (var q in hostile)
        {
            var found = await store.SearchPostsAsync(q, 10); // must not throw
            Assert.All(found, p => Assert.Contains(p.Id, new[] { "t:1", "t:2", "t:3" }));
        }
        Assert.Equal(2, (await store.SearchPostsAsync("\"harvest", 10)).Count);
        Assert.Equal(2, (await store.SearchPostsAsync("harvest)", 10)).Count);
        Assert.Empty(await store.SearchPostsAsync("%", 10));
        Assert.Equal(3, (await store.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Search_finds_words_in_abugida_scripts()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        b.Posts.Add(MakePost(1, "கடல் அருகே பள்ளி"));        // Tamil: sea, near, school
        b.Posts.Add(MakePost(2, "පාසල අසල ගඟ"));             // Sinhala: school, near, river
        b.Posts.Add(MakePost(3, "မြန်မာ ရာသီဥတု"));            // Burmese, space-separated phrases
        b.Posts.Add(MakePost(4, "பள்ளிக்கூடம் திறந்தது"));     // Tamil: a longer word sharing the prefix
        await store.WriteAsync(b);

        Assert.Equal(["t:1"], (await store.SearchPostsAsync("பள்ளி", 10)).Select(p => p.Id));
        Assert.Equal(["t:2"], (await store.SearchPostsAsync("පාසල", 10)).Select(p => p.Id));
        Assert.Equal(["t:3"], (await store.SearchPostsAsync("မြန်မာ", 10)).Select(p => p.Id));
    }

    [Fact]
    public async Task Empty_values_are_stored_as_empty_not_rejected()
    {
        await using var store = await CreateStoreAsync();
        var b = new StoreBatch();
        b.Posts.Add(MakePost(1, text: "")); // media-only posts have no text
        b.DeadLetters.Add(new DeadLetter(new SourcePosition("test:src", 7), DeadLetterReasons.InvalidJson, ReadOnlyMemory<byte>.Empty, T0));
        b.State["empty"] = Array.Empty<byte>();
        await store.WriteAsync(b);

        Assert.Equal("", (await store.GetPostAsync("t:1"))?.Text);
        Assert.Empty(Assert.Single(await store.GetDeadLettersAsync(5)).Bytes);
        Assert.Equal(Array.Empty<byte>(), await store.GetStateAsync("empty"));
    }

    [Fact]
    public async Task Checkpoints_never_move_backwards()
    {
        await using var store = await CreateStoreAsync();
        Assert.Null(await store.GetCheckpointAsync("replay:a"));
        foreach (var (source, offset) in new[] { ("replay:a", 10L), ("replay:a", 5L), ("replay:b", 3L), ("replay:a", 20L), ("replay:b", 2L) })
        {
            var b = new StoreBatch();
            b.Checkpoints[source] = offset;
            await store.WriteAsync(b);
        }
        Assert.Equal(20, await store.GetCheckpointAsync("replay:a"));
        Assert.Equal(3, await store.GetCheckpointAsync("replay:b"));
    }

    [Fact]
    public async Task Dead_letters_keep_reason_and_bytes_and_are_idempotent_by_position()
    {
        await using var store = await CreateStoreAsync();
        await store.WriteAsync(MakeMixedBatch());
        var replay = new StoreBatch();
        replay.DeadLetters.Add(new DeadLetter(new SourcePosition("test:src", 1001), DeadLetterReasons.InvalidUtf8, new byte[] { 0xff, 0xfe, 0x00 }, T0));
        replay.DeadLetters.Add(new DeadLetter(new SourcePosition("other:src", 1001), DeadLetterReasons.TooLarge, new byte[] { 1 }, T0.AddMinutes(1)));
        await store.WriteAsync(replay);

        var letters = await store.GetDeadLettersAsync(10);
        Assert.Equal(3, letters.Count);
        Assert.Equal(("other:src", DeadLetterReasons.TooLarge), (letters[0].Source, letters[0].Reason)); // newest first
        var bad = Assert.Single(letters, l => l.Source == "test:src" && l.Offset == 1001);
        Assert.Equal(DeadLetterReasons.InvalidUtf8, bad.Reason);
        Assert.Equal(new byte[] { 0xff, 0xfe, 0x00 }, bad.Bytes);
        Assert.Equal(T0, bad.ReceivedAt);
        Assert.Single(await store.GetDeadLettersAsync(1));
        Assert.Equal(3, (await store.GetCountsAsync()).DeadLetters);
    }

    [Fact]
    public async Task State_round_trips_and_is_replaced()
    {
        await using var store = await CreateStoreAsync();
        Assert.Null(await store.GetStateAsync("graph"));
        var bytes = Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray();
        var b = new StoreBatch();
        b.State["graph"] = bytes;
        b.State["series"] = new byte[] { 0 };
        await store.WriteAsync(b);
        Assert.Equal(bytes, await store.GetStateAsync("graph"));

        var b2 = new StoreBatch();
        b2.State["graph"] = new byte[] { 9, 8, 7 };
        await store.WriteAsync(b2);
        Assert.Equal(new byte[] { 9, 8, 7 }, await store.GetStateAsync("graph"));
        Assert.Equal(new byte[] { 0 }, await store.GetStateAsync("series"));
    }

    [Fact]
    public async Task Chunked_state_round_trips_byte_for_byte_and_replaces_a_longer_one()
    {
        await using var store = await CreateStoreAsync();
        // Several pooled blocks, a last one partly filled, and a span asked for that is larger than a block (copied
        // into blocks when advanced) in the middle.
        var expected = new List<byte>();
        var rng = new Random(7);
        using var blob = new StateBlob();
        var w = new BinaryWriter(blob.AsWriteStream());
        for (var i = 0; i < 50_000; i++)
        {
            w.Write(i);
            expected.AddRange(BitConverter.GetBytes(i));
        }
        w.Flush();
        var big = blob.GetSpan(StateBlob.ChunkSize + 10);
        for (var i = 0; i < StateBlob.ChunkSize + 10; i++) big[i] = (byte)rng.Next();
        expected.AddRange(big[..(StateBlob.ChunkSize + 10)].ToArray());
        blob.Advance(StateBlob.ChunkSize + 10);
        for (var i = 0; i < 70_001; i++)
        {
            blob.WriteByte((byte)(i * 7));
            expected.Add((byte)(i * 7));
        }
        var segments = 0;
        foreach (var _ in blob.Bytes) segments++;
        Assert.True(segments > 4, $"{segments} segments");
        var b = new StoreBatch();
        b.State["graph"] = blob;
        await store.WriteAsync(b);
        Assert.Equal(expected.ToArray(), await store.GetStateAsync("graph"));

        using var shorter = new StateBlob();
        shorter.Write(Enumerable.Range(0, StateBlob.ChunkSize * 2 + 5).Select(i => (byte)(i % 251)).ToArray());
        var b2 = new StoreBatch();
        b2.State["graph"] = shorter;
        await store.WriteAsync(b2);
        Assert.Equal(shorter.ToArray(), await store.GetStateAsync("graph"));
    }

    [Fact]
    public async Task Feedback_is_kept_in_order_and_counted()
    {
        await using var store = await CreateStoreAsync();
        await store.WriteAsync(MakeMixedBatch());
        await store.AddFeedbackAsync(new Feedback("t:5", Labels.None, "analyst-1", "satire", T0.AddHours(1)));
        await store.AddFeedbackAsync(new Feedback("t:6", Labels.Hate, "analyst-2", null, T0.AddHours(2)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AddFeedbackAsync(new Feedback("", Labels.Hate, "a", null, T0)));

        var fb = await store.GetFeedbackAsync();
        Assert.Equal(["t:5", "t:6"], fb.Select(f => f.PostId));
        Assert.Equal(new Feedback("t:5", Labels.None, "analyst-1", "satire", T0.AddHours(1)), fb[0]);
        Assert.Equal(new StoreCounts(100, 20, 1, 2, 2), await store.GetCountsAsync());
    }

    [Fact]
    public async Task Data_survives_reopening()
    {
        var store = await CreateStoreAsync();
        await store.WriteAsync(MakeMixedBatch());
        var alertId = MakeAlert().Id;
        Assert.True(await store.UpdateAlertStatusAsync(alertId, AlertStatus.Escalated, "analyst-1", null));
        await store.AddFeedbackAsync(new Feedback("t:5", Labels.None, "analyst-1", null, T0));

        await using var reopened = await ReopenAsync(store);
        Assert.Equal(new StoreCounts(100, 20, 1, 2, 1), await reopened.GetCountsAsync());
        Assert.Equal(1001, await reopened.GetCheckpointAsync("test:src"));
        Assert.Equal(new byte[] { 1, 2, 3 }, await reopened.GetStateAsync("signals"));
        var alert = await reopened.GetAlertAsync(alertId);
        Assert.Equal(AlertStatus.Escalated, alert?.Status);
        Assert.Single(alert!.Audit);
        Assert.NotEmpty(await reopened.SearchPostsAsync("harvest", 5));
        // And it still takes writes idempotently.
        await reopened.WriteAsync(MakeMixedBatch());
        Assert.Equal(100, (await reopened.GetCountsAsync()).Posts);
    }

    [Fact]
    public async Task Concurrent_readers_see_consistent_data_while_batches_are_written()
    {
        await using var store = await CreateStoreAsync();
        const int batches = 40, perBatch = 50;
        var writer = Task.Run(async () =>
        {
            for (var k = 0; k < batches; k++)
            {
                var b = new StoreBatch();
                for (var i = 0; i < perBatch; i++)
                {
                    var n = k * perBatch + i;
                    b.Posts.Add(MakePost(n, label: i % 5 == 0 ? Labels.Hate : Labels.None));
                }
                b.Checkpoints["test:src"] = (k + 1) * perBatch - 1;
                await store.WriteAsync(b);
            }
        });

        async Task<int> ReadLoop()
        {
            long lastPosts = 0;
            var reads = 0;
            var timeout = Stopwatch.StartNew();
            while (true)
            {
                var done = writer.IsCompleted;
                var counts = await store.GetCountsAsync();
                var checkpoint = await store.GetCheckpointAsync("test:src") ?? -1;
                Assert.True(counts.Posts >= lastPosts, "post count went backwards");
                if (AtomicBatches)
                {
                    Assert.True(checkpoint >= counts.Posts - 1, "a later checkpoint read is behind the posts already seen");
                    Assert.Equal(0, counts.Posts % perBatch);
                    Assert.Equal(counts.Posts / 5, counts.FlaggedPosts);
                }
                if (counts.Posts > 0) Assert.NotNull(await store.GetPostAsync("t:" + (counts.Posts - 1)));
                lastPosts = counts.Posts;
                reads++;
                if (done) return reads;
                Assert.True(timeout.Elapsed < TimeSpan.FromSeconds(30), "writer did not finish in time");
                await Task.Yield();
            }
        }

        var readers = await Task.WhenAll(Task.Run(ReadLoop), Task.Run(ReadLoop));
        await writer;
        Assert.All(readers, r => Assert.True(r > 1));
        Assert.Equal(batches * perBatch, (await store.GetCountsAsync()).Posts);
        Assert.Equal(batches * perBatch - 1, await store.GetCheckpointAsync("test:src"));
    }
}
