using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Storage.Sqlite;
using EarlyWarning.Tests;
using Xunit.Abstractions;

namespace EarlyWarning.Integration.Tests;

/// <summary>Issue 7's application-level must-shows: the pipeline reading the simulator's stream from a 3-broker mock cluster.</summary>
[Collection(KafkaPipelineCollection.Name)]
public sealed partial class KafkaPipelineTests(KafkaPipelineFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Kafka_run_stores_the_same_posts_decisions_and_alerts_as_the_embedded_run()
    {
        var s = fx.Large;
        var baseline = await fx.BaselineAsync(s);
        var db = Path.Combine(fx.Dir, "kafka-large.db");
        var (rc, stdout, stderr) = await EndToEndTests.RunCliAsync(fx.KafkaRunArgs(s, "g-equiv", db));
        Assert.True(rc == 0, $"exit {rc}: {stderr}");
        output.WriteLine(Summary(stdout));
        var run = await RunSnapshot.ReadAsync(db);

        Assert.Equal(s.Ids.Count, baseline.Counts.Posts);
        Assert.Equal(s.Ids.Count, run.Counts.Posts);
        Assert.Equal(0, run.Counts.DeadLetters);
        Assert.Equal(s.Ids.Order(StringComparer.Ordinal), run.Decisions.Keys.Order(StringComparer.Ordinal));
        var differing = baseline.Decisions.Where(kv => run.Decisions[kv.Key] != kv.Value).Select(kv => kv.Key).Take(5).ToList();
        Assert.True(differing.Count == 0, "decisions differ for posts " + string.Join(", ", differing));
        Assert.True(baseline.AlertKeys.Count > 0, "the embedded run raised no alerts: nothing to compare");
        Assert.True(baseline.AlertKeys.SequenceEqual(run.AlertKeys), RunSnapshot.Diff(baseline.AlertKeys, run.AlertKeys));
        Assert.Equal(baseline.AlertIds, run.AlertIds);
    }

    [Fact]
    public async Task Two_instances_in_one_group_split_the_partitions_and_store_every_post_once()
    {
        // Both members join an empty topic first, so the split is the group's doing and not a race with the first joiner.
        var s = fx.Small;
        var topic = fx.NewTopic(s.Partitions, "scale");
        var db = Path.Combine(fx.Dir, "kafka-two.db");
        var group = "g-two-" + Guid.NewGuid().ToString("N")[..8];
        string[] args = ["run", "--source", $"kafka:{fx.Bootstrap}/{topic}", "--group", group, "--no-dashboard", "--store", "sqlite:" + db, "--data-dir", fx.KeyDir];
        using var stop = new CancellationTokenSource();
        var logs = new[] { new StringWriter(), new StringWriter() };
        var writers = logs.Select(TextWriter.Synchronized).ToArray();
        var runs = writers.Select(w => EarlyWarning.App.Cli.RunAsync(args, w, w, TextReader.Null, stop.Token)).ToArray();
        try
        {
            await WaitForAsync(() => Task.FromResult(runs.Any(r => r.IsCompleted) || Assignments() is [{ Count: > 0 } a0, { Count: > 0 } a1]
                && !a0.Overlaps(a1) && a0.Count + a1.Count == s.Partitions), TimeSpan.FromSeconds(60), "both members to hold disjoint partitions");
            Assert.False(runs.Any(r => r.IsCompleted), "a member stopped early: " + Text(0) + Text(1));
            var split = Assignments();
            output.WriteLine($"partitions [{string.Join(',', split[0])}] and [{string.Join(',', split[1])}]");

            var ids = fx.Produce(s.Jsonl, topic, s.Partitions);
            await WaitForAsync(async () => runs.Any(r => r.IsCompleted) || await StoredPostsAsync(db) >= ids.Count, TimeSpan.FromSeconds(90), "every post stored");
        }
        finally
        {
            await stop.CancelAsync();
        }
        var rcs = await Task.WhenAll(runs);
        Assert.True(rcs.All(rc => rc == 0), Text(0) + Text(1));
        var reads = new[] { ReadCount(Text(0)), ReadCount(Text(1)) };
        output.WriteLine($"read {reads[0]} + {reads[1]}");

        // Each member read only its own partitions, and between them everything exactly once (no rebalance mid-stream).
        Assert.All(reads, r => Assert.InRange(r, 1, s.Ids.Count - 1));
        Assert.Equal(s.Ids.Count, reads.Sum());
        // The shared, idempotent store holds every post exactly once.
        var run = await RunSnapshot.ReadAsync(db);
        Assert.Equal(s.Ids.Count, run.Counts.Posts);
        Assert.Equal(s.Ids.Order(StringComparer.Ordinal), run.Decisions.Keys.Order(StringComparer.Ordinal));

        string Text(int i)
        {
            lock (writers[i]) return logs[i].ToString();
        }

        SortedSet<int>[] Assignments() => [FinalAssignment(Text(0), topic), FinalAssignment(Text(1), topic)];
    }

    [Fact]
    public async Task Killing_the_pipeline_process_at_random_points_loses_no_post_and_changes_no_alert()
    {
        var s = fx.Small;
        var baseline = await fx.BaselineAsync(s);
        var db = Path.Combine(fx.Dir, "kafka-kill.db");
        var group = "g-kill-" + Guid.NewGuid().ToString("N")[..8];
        var seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"kill points from seed {seed}");
        const int kills = 3;
        var restoredRuns = 0;
        long target = 0;
        for (var i = 0; i <= kills; i++)
        {
            using var child = StartChild(fx.KafkaRunArgs(s, group, db), out var stdout);
            if (i < kills)
            {
                // A random point past what is already stored: the child dies mid-stream, between or inside transactions.
                target = Math.Max(target, await StoredPostsAsync(db)) + random.Next(s.Ids.Count / 10, s.Ids.Count / 5);
                var t = target;
                await WaitForAsync(async () => child.HasExited || await StoredPostsAsync(db) >= t, TimeSpan.FromSeconds(60), $"{t} posts stored");
                Assert.False(child.HasExited, $"the child finished before kill {i + 1}: {stdout}");
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync();
                output.WriteLine($"killed at >= {t} stored posts (stored now {await StoredPostsAsync(db)})");
            }
            else
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                await child.WaitForExitAsync(timeout.Token);
                Assert.True(child.ExitCode == 0, $"exit {child.ExitCode}: {stdout}");
                output.WriteLine(Summary(stdout.ToString()));
            }
            if (stdout.ToString().Contains("from stage state", StringComparison.Ordinal)) restoredRuns++;
        }
        // The state checkpoints were actually used: at least one restart resumed from stored stage state.
        Assert.True(restoredRuns >= 1, "no restart resumed from stored stage state");

        var run = await RunSnapshot.ReadAsync(db);
        Assert.Equal(s.Ids.Count, run.Counts.Posts);
        Assert.Equal(s.Ids.Order(StringComparer.Ordinal), run.Decisions.Keys.Order(StringComparer.Ordinal));
        // Alert ids are hashes of kind, scope and window start: a duplicate would be a second key for the same id.
        Assert.Equal(run.AlertIds.Count, run.AlertIds.Distinct(StringComparer.Ordinal).Count());
        Assert.True(baseline.AlertKeys.SequenceEqual(run.AlertKeys), RunSnapshot.Diff(baseline.AlertKeys, run.AlertKeys));
    }

    [Fact]
    public async Task A_broker_down_and_up_mid_run_loses_nothing()
    {
        var s = fx.Small;
        var baseline = await fx.BaselineAsync(s);
        var db = Path.Combine(fx.Dir, "kafka-broker.db");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var log = new StringWriter();
        var synced = TextWriter.Synchronized(log);
        var run = EarlyWarning.App.Cli.RunAsync(fx.KafkaRunArgs(s, "g-broker-" + Guid.NewGuid().ToString("N")[..8], db), synced, synced, TextReader.Null, cts.Token);

        // Down as soon as the consumer has its partitions: waiting for stored posts raced the consumer, which could
        // read the whole topic ahead of the store's first commits, stop polling, and so never see the outage.
        await WaitForAsync(() => Task.FromResult(run.IsCompleted || Text().Contains("assigned " + s.Topic, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), "the consumer's partitions assigned");
        Assert.False(run.IsCompleted, "the run finished before the broker could be taken down");
        const int broker = 1;
        var before = Text().Length;
        fx.Cluster.SetBrokerDown(broker);
        bool reported, spanned;
        try
        {
            // Down for a while: until the consumer reports it (a transport error from the broker that went away) or
            // for 10 s. A consumer whose partitions are paused (its buffer full while the pipeline catches up) fetches
            // nothing and may not notice the outage before the broker is back; both must lose nothing.
            var down = Stopwatch.StartNew();
            while (!(reported = Reported()) && down.Elapsed < TimeSpan.FromSeconds(10) && !run.IsCompleted) await Task.Delay(50);
            spanned = !run.IsCompleted;
        }
        finally
        {
            fx.Cluster.SetBrokerUp(broker);
        }
        Assert.True(spanned, "the run finished while the broker was down: the outage did not fall inside the run");
        output.WriteLine(reported ? "the consumer reported the outage" : "the consumer did not report the outage before the broker came back");
        var rc = await run;
        Assert.True(rc == 0, log.ToString());
        output.WriteLine(Summary(log.ToString()));

        var snap = await RunSnapshot.ReadAsync(db);
        Assert.Equal(s.Ids.Count, snap.Counts.Posts);
        Assert.Equal(s.Ids.Order(StringComparer.Ordinal), snap.Decisions.Keys.Order(StringComparer.Ordinal));
        Assert.True(baseline.AlertKeys.SequenceEqual(snap.AlertKeys), RunSnapshot.Diff(baseline.AlertKeys, snap.AlertKeys));

        string Text()
        {
            lock (synced) return log.ToString();
        }

        bool Reported() => Text()[before..] is var after
            && (after.Contains("kafka error", StringComparison.Ordinal) || after.Contains("librdkafka", StringComparison.Ordinal));
    }

    internal static Process StartChild(string[] args, out StringBuilder stdout)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(AppDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[KafkaMessageSource.ConfigEnvironmentVariable] = KafkaPipelineFixture.FastGroupConfig;
        // Frequent stage-state checkpoints, so kills land between them and restarts restore them.
        psi.Environment[PipelineOptions.StateIntervalEnvironmentVariable] = "1000";
        var sb = new StringBuilder();
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sb) sb.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sb) sb.AppendLine(e.Data); };
        Assert.True(p.Start());
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        stdout = sb;
        return p;
    }

    /// <summary>The app as built beside the tests (the App project is referenced, so its output is copied here).</summary>
    private static string AppDll()
    {
        var here = Path.Combine(AppContext.BaseDirectory, "earlywarning.dll");
        if (File.Exists(here) && File.Exists(Path.Combine(AppContext.BaseDirectory, "earlywarning.runtimeconfig.json"))) return here;
        var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        return Path.Combine(TestPaths.RepoRoot, "pipeline", "EarlyWarning.App", "bin", config, "net10.0", "earlywarning.dll");
    }

    private static async Task<long> StoredPostsAsync(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            await using var store = new SqliteStore(db);
            await store.InitializeAsync();
            return (await store.GetCountsAsync()).Posts;
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return 0;
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(50);
        }
    }

    private static long ReadCount(string stdout) =>
        ReadRegex().Match(stdout) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;

    /// <summary>The partitions a member held at the end, from its rebalance log lines.</summary>
    private static SortedSet<int> FinalAssignment(string stdout, string topic)
    {
        var held = new SortedSet<int>();
        foreach (var line in stdout.Split('\n'))
        {
            var m = AssignmentRegex().Match(line);
            if (!m.Success || m.Groups[2].Value != topic) continue;
            var parts = m.Groups[3].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p.Split('@')[0], CultureInfo.InvariantCulture));
            if (m.Groups[1].Value == "assigned") held.UnionWith(parts); else held.ExceptWith(parts);
        }
        return held;
    }

    private static string Summary(string stdout) =>
        string.Join('\n', stdout.Split('\n').Where(l => l.StartsWith("finished", StringComparison.Ordinal) || l.StartsWith("stage state", StringComparison.Ordinal)
            || l.StartsWith("resuming", StringComparison.Ordinal) || l.StartsWith("kafka start", StringComparison.Ordinal)
            || l.StartsWith("paused its partitions", StringComparison.Ordinal)));

    [GeneratedRegex(@"^(?:finished|stopped): read (\d+),", RegexOptions.Multiline)]
    private static partial Regex ReadRegex();

    [GeneratedRegex(@"^(assigned|revoked|lost) (\S+) \[([^\]]*)\]")]
    private static partial Regex AssignmentRegex();
}
