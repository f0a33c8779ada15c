using System.Globalization;
using EarlyWarning.App.Http;
using EarlyWarning.App.Observability;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.App.Safeguards;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Kafka;
using EarlyWarning.Models.Cli;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Signals.Cli;
using EarlyWarning.Signals.Delivery;
using EarlyWarning.Storage.Elasticsearch;
using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.App;

/// <summary>Command-line entry (DESIGN.md, "The command line": a contract scripts depend on).</summary>
public static class Cli
{
    private const string Usage = """
        usage: earlywarning VERB [options]
          run [--source simulate[:SCENARIO]|replay:PATH|kafka:BOOTSTRAP[/TOPIC]] [--seed N] [--posts N] [--truth PATH]
              [--store sqlite:PATH|elasticsearch:URL] [--store-posts all|flagged] [--until-end] [--no-dashboard] [--port N]
              [--speed X] [--model DIR] [--script-model DIR[,DIR]] [--data-dir DIR] [--group NAME]
              [--host IP] [--retention posts=30d,dead_letters=7d,...] [--retention-interval MIN] [--subscriptions PATH]
              [--reidentifiable]   (keep an encrypted pseudonym → account map so an admin can re-identify, audited)
          simulate --scenario NAME --seed N [--posts N] --out PATH.jsonl [--truth PATH.json]
          train --data PATH... --out DIR [--name NAME]
          evaluate --model DIR --data PATH [--json]
          classify [--model DIR] [--script-model DIR[,DIR]] [--json]   (one text per line on stdin)
          detect --input PATH.csv [--json]
          setup elasticsearch --url URL [--kibana URL]
          transparency-report --from TIME --to TIME [--store sqlite:PATH] [--format md|json]
          appeal file --post ID --reason TEXT --on-behalf-of WHO | appeal list [--status open|upheld|reversed]
            | appeal review --id AP --outcome uphold|reverse [--label LABEL] [--note TEXT]
          reidentify --pseudonym P --reason TEXT
          rotate-key
          audit-export [--from TIME] [--to TIME]   (JSON lines with hashes; exit 1 when the hash chain is broken)
            (appeal, reidentify, rotate-key, audit-export: [--store sqlite:PATH] [--data-dir DIR] [--actor NAME]; audited)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, TextReader? stdin = null,
        CancellationToken ct = default)
    {
        var @out = stdout ?? Console.Out;
        var err = stderr ?? Console.Error;
        // "VERB --help" prints the usage too: it must never start the verb (a `run --help` used to start a pipeline).
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help" || args.Skip(1).Any(x => x is "-h" or "--help"))
        {
            @out.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        Args a;
        try { a = args[0] is "setup" or "appeal" ? Args.Parse([]) : Args.Parse(args[1..]); }
        catch (UsageException ex) { err.WriteLine($"error: {ex.Message}"); err.WriteLine(Usage); return 2; }
        try
        {
            return args[0] switch
            {
                "run" => await RunPipelineAsync(a, @out, err, ct).ConfigureAwait(false),
                "simulate" => Simulate(a, @out),
                "train" => TrainCommand.Run(a.Many("data"), a.Required("out"), @out, a.Optional("name")),
                "evaluate" => EvaluateCommand.Run(a.Required("model"), a.Required("data"), a.Flag("json"), @out),
                "classify" => ClassifyCommand.Run(a.Optional("model"), a.Flag("json"), stdin ?? Console.In, @out, ScriptModelDirs(a)),
                "detect" => DetectCommand.Run(a.Required("input"), a.Flag("json"), @out),
                "transparency-report" => TransparencyReportCommand.Run(a.Optional, @out),
                "appeal" => await SafeguardCommands.AppealAsync(args.Length > 1 ? args[1] : "", Args.Parse(args.Length > 2 ? args[2..] : []).Optional, @out, ct).ConfigureAwait(false),
                "reidentify" => await SafeguardCommands.ReidentifyAsync(a.Optional, @out, ct).ConfigureAwait(false),
                "rotate-key" => await SafeguardCommands.RotateKeyAsync(a.Optional, @out, ct).ConfigureAwait(false),
                "audit-export" => await SafeguardCommands.AuditExportAsync(a.Optional, @out, ct).ConfigureAwait(false),
                "setup" => await SetupAsync(args.Length > 1 ? args[1] : "", Args.Parse(args.Length > 2 ? args[2..] : []), @out, ct).ConfigureAwait(false),
                _ => throw new UsageException($"unknown verb '{args[0]}'"),
            };
        }
        catch (UsageException ex)
        {
            err.WriteLine($"error: {ex.Message}");
            err.WriteLine(Usage);
            return 2;
        }
        // Failures of the environment (files, the database, Kafka, Elasticsearch) end the command with a one-line error and
        // exit code 1, not an unhandled-exception abort: a database that cannot be opened or a disk that fills mid-run
        // (the pipeline ends with its store's error) is something a user fixes, not a bug report.
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or FormatException
            or HttpRequestException or ElasticsearchException or System.Data.Common.DbException or Confluent.Kafka.KafkaException)
        {
            err.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary><c>setup elasticsearch --url URL [--kibana URL]</c>: installs templates, the ILM policy and the Kibana objects.</summary>
    private static async Task<int> SetupAsync(string what, Args a, TextWriter log, CancellationToken ct)
    {
        if (what != "elasticsearch") throw new UsageException("setup takes: elasticsearch --url URL [--kibana URL]");
        if (!Uri.TryCreate(a.Required("url"), UriKind.Absolute, out var es)) throw new UsageException("--url must be an absolute URL");
        Uri? kibana = null;
        if (a.Optional("kibana") is { } k && !Uri.TryCreate(k, UriKind.Absolute, out kibana)) throw new UsageException("--kibana must be an absolute URL");
        var result = await ElasticsearchSetup.InstallAsync(es, kibana, ct).ConfigureAwait(false);
        log.WriteLine($"installed ILM policy {result.Policy}, {result.Templates.Count} index templates, {result.CreatedIndices.Count} indices" +
            (kibana is null ? "" : $", {result.KibanaObjects} Kibana saved objects"));
        return 0;
    }

    private static int Simulate(Args a, TextWriter log)
    {
        var sim = new Simulator(a.Required("scenario"), a.Int("seed", 1), a.IntOrNull("posts"));
        var outPath = a.Required("out");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        long n = 0;
        using (var fs = File.Create(outPath))
            Simulator.WriteJsonl(Count(sim.Generate()), fs);
        if (a.Optional("truth") is { } truth) sim.Truth.WriteJson(truth);
        log.WriteLine($"wrote {n} posts to {outPath}");
        return 0;

        IEnumerable<SimulatedPost> Count(IEnumerable<SimulatedPost> posts)
        {
            foreach (var p in posts) { n++; yield return p; }
        }
    }

    private static async Task<int> RunPipelineAsync(Args a, TextWriter log, TextWriter err, CancellationToken ct)
    {
        var untilEnd = a.Flag("until-end");
        var dataDir = Path.GetFullPath(a.Optional("data-dir") ?? "data");
        var sourceSpec = a.Optional("source") ?? "simulate";
        var seed = a.Int("seed", 1);
        var speed = a.DoubleOrNull("speed");

        IMessageSource source;
        if (sourceSpec == "simulate" || sourceSpec.StartsWith("simulate:", StringComparison.Ordinal))
        {
            var scenario = sourceSpec.Length > 9 ? sourceSpec[9..] : "election-day";
            var sim = new SimulatorSource(scenario, seed, a.IntOrNull("posts"), untilEnd ? 0 : speed ?? 720);
            if (a.Optional("truth") is { } truth) sim.Truth.WriteJson(truth);
            source = sim;
        }
        else if (sourceSpec.StartsWith("replay:", StringComparison.Ordinal))
        {
            source = new ReplaySource(sourceSpec[7..], speed ?? 0);
        }
        else if (sourceSpec.StartsWith("kafka:", StringComparison.Ordinal))
        {
            if (!KafkaAddress.TryParse(sourceSpec, out var address, out var error)) throw new UsageException(error ?? "bad kafka address");
            source = new KafkaMessageSource(address, a.Optional("group") ?? "earlywarning", untilEnd, log);
        }
        else throw new UsageException($"unknown source '{sourceSpec}'");

        var storeSpec = a.Optional("store") ?? "sqlite:" + Path.Combine(dataDir, "earlywarning.db");
        var storePosts = a.Optional("store-posts") switch
        {
            null or "all" => StorePostsMode.All,
            "flagged" => StorePostsMode.Flagged,
            var other => throw new UsageException($"--store-posts takes all or flagged, not '{other}'"),
        };

        await using var store = OpenStore(storeSpec);
        await store.InitializeAsync(ct).ConfigureAwait(false);

        // Versioned pseudonym keys (./data/pseudonym.key is always the current one, mode 600, never committed).
        var keyring = new PseudonymKeyRing(dataDir);
        var pseudonymizer = new Pseudonymizer(keyring.CurrentKey);
        using var classifier = PostClassifier.Load(a.Optional("model") ?? ModelPaths.DefaultModelDir, ModelPaths.DefaultLexiconDir);
        foreach (var dir in ScriptModelDirs(a))
        {
            try { classifier.LoadScriptModel(dir); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            log.WriteLine($"script model {classifier.ScriptModels[^1].Manifest.Id} labels posts in {string.Join(", ", classifier.ScriptModels[^1].Manifest.TrainedScripts!)} the served model was not trained on");
        }

        // Safeguards that live beside the SQLite store: the hash-chained audit log and retention.
        await using var safeguards = store is SqliteStore sqlite ? new SqliteSafeguardStore(sqlite.Path) : null;
        var audit = safeguards is null ? null : new SqliteAuditLog(safeguards);
        var retention = a.Optional("retention") is { } spec ? RetentionPolicy.Parse(spec) : null;
        if (retention is not null && (store is not SqliteStore || safeguards is null || audit is null))
            throw new UsageException("--retention is enforced on the SQLite store; Elasticsearch uses its ILM policy");
        // Re-identification is off by default: originals are kept (encrypted, per key version) only when asked for.
        if (a.Flag("reidentifiable") && (safeguards is null || audit is null))
            throw new UsageException("--reidentifiable keeps its encrypted map beside the SQLite store; use --store sqlite:PATH");
        var reidentification = safeguards is null ? null : new ReidentificationService(safeguards, keyring, audit!, enabled: a.Flag("reidentifiable"));

        await using var delivery = OpenDelivery(a, dataDir, log);
        // Partner reports (POST /api/reports) enter the run beside the main source; numbering continues after the store's checkpoint.
        var isExercise = source is SimulatorSource;
        var reports = await ReportIntake.OpenAsync(store, ct: ct).ConfigureAwait(false);
        reports.StoredAccount = pseudonymizer.Enabled ? pseudonymizer.Pseudonymize : static id => id;
        source = new MergedSource(source, new ReportSource(reports));
        // Dead letters keep input that was never pseudonymised: sealed with a key derived from the pseudonym key ring.
        var deadLetterCipher = new DeadLetterCipher(keyring);
        var runner = new PipelineRunner(new PipelineOptions { StorePosts = storePosts }, source, store, classifier, pseudonymizer,
            new SignalEngine(new SignalOptions()), new NetworkEngine(new NetworkOptions()), log) { Delivery = delivery, DeadLetterCipher = deadLetterCipher, Reidentification = reidentification };
        reports.EventTime = () => runner.Status.EventTime;
        using var exporter = new PrometheusExporter();
        using var metrics = PipelineMetrics.For(runner);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (docker stop, systemd, kill) stops the run the same way as Ctrl+C: stores drain, state is saved.
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            DashboardServer? dashboard = null;
            if (!a.Flag("no-dashboard"))
            {
                dashboard = await DashboardServer.StartAsync(new DashboardOptions
                {
                    // Outside the local default (e.g. in a container) set EARLYWARNING_HOST and EARLYWARNING_API_KEYS.
                    Host = a.Optional("host") ?? Environment.GetEnvironmentVariable("EARLYWARNING_HOST") ?? "127.0.0.1",
                    Port = a.Int("port", 5080),
                    ApiKeys = ApiKeys.Parse(Environment.GetEnvironmentVariable("EARLYWARNING_API_KEYS")),
                    Audit = audit?.DashboardSink(err),
                    Metrics = exporter,
                    Feeds = new FeedOptions { Cap = new CapOptions { Status = isExercise ? "Exercise" : "Actual" } },
                    Reports = reports,
                    Safeguards = new SafeguardServices
                    {
                        Audit = audit,
                        Appeals = safeguards is null ? null : new AppealsService(store, safeguards, audit!),
                        // Finds originals only for runs with --reidentifiable (or maps recorded earlier).
                        Reidentification = reidentification,
                        Keys = keyring,
                        DeadLetters = deadLetterCipher,
                    },
                }, store, new LiveView(runner, classifier.ModelId), stop.Token).ConfigureAwait(false);
                log.WriteLine($"dashboard: {dashboard.Address}");
            }
            await using (dashboard)
            {
                log.WriteLine($"reading {source.Name}");
                var progress = ReportProgressAsync(runner, log, stop.Token);
                var retentionJob = retention is null ? Task.CompletedTask
                    : new RetentionJob((SqliteStore)store, safeguards!, retention, audit!)
                        .RunScheduledAsync(TimeSpan.FromMinutes(a.Int("retention-interval", 60)), log, stop.Token);
                await runner.RunAsync(stop.Token).ConfigureAwait(false);
                var s = runner.Status;
                var (p50, p99, _) = s.StoreLatency;
                var (a50, a99, _) = s.AlertLatency;
                // Which stage bounds throughput: the one busy nearly all the time, with those before it back-pressured.
                log.WriteLine("stage time: " + string.Join("; ", s.StageClocks.Select(c => c.Describe())));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.State}: read {s.Read}, stored {s.Stored} posts, {s.DeadLettered} dead letters, {s.Flagged} flagged, {s.AlertsRaised} alert updates in {s.Elapsed.TotalSeconds:F1} s (store latency p50 {p50:F0} ms, p99 {p99:F0} ms; alert latency p50 {a50:F0} ms, p99 {a99:F0} ms)"));
                if (!untilEnd && dashboard is not null && !stop.IsCancellationRequested)
                {
                    log.WriteLine("stream finished; the dashboard stays up until Ctrl+C");
                    try { await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { }
                }
                stop.Cancel();
                await progress.ConfigureAwait(false);
                try { await retentionJob.ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            if (source is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary><c>--script-model DIR[,DIR]</c>: models for posts in scripts the served model was not trained on (<see cref="PostClassifier.AttachScriptModel"/>).</summary>
    private static IReadOnlyList<string> ScriptModelDirs(Args a) =>
        a.Optional("script-model") is { } v ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

    /// <summary>
    /// Alert delivery when subscriptions exist (<c>--subscriptions PATH</c>, default <c>./data/subscriptions.json</c>);
    /// email needs <c>EARLYWARNING_SMTP=host:port</c> and <c>EARLYWARNING_SMTP_FROM</c>. The ledger lives in ./data.
    /// </summary>
    private static AlertDelivery? OpenDelivery(Args a, string dataDir, TextWriter log)
    {
        var path = a.Optional("subscriptions") ?? Path.Combine(dataDir, "subscriptions.json");
        if (a.Optional("subscriptions") is null && !File.Exists(path)) return null;
        var loaded = SubscriptionFile.Load(path);
        foreach (var e in loaded.Errors) log.WriteLine($"subscriptions: entry {e.Index} ({e.Id}) refused: {e.Reason}");
        if (loaded.Subscriptions.Count == 0) return null;
        var baseUrl = new Uri(Environment.GetEnvironmentVariable("EARLYWARNING_PUBLIC_URL") ?? $"http://127.0.0.1:{a.Int("port", 5080)}/");
        var links = new AlertLinks(baseUrl);
        var channels = new List<IAlertChannel> { new WebhookChannel(new HttpClient(), links) };
        if (Environment.GetEnvironmentVariable("EARLYWARNING_SMTP") is { Length: > 0 } smtp)
        {
            var parts = smtp.Split(':', 2);
            channels.Add(new EmailChannel(new SmtpOptions
            {
                Host = parts[0],
                Port = parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var port) ? port : 25,
                From = Environment.GetEnvironmentVariable("EARLYWARNING_SMTP_FROM") ?? "earlywarning@localhost",
            }, links));
        }
        var ledger = JsonlDeliveryLedger.Open(Path.Combine(dataDir, "deliveries.jsonl"));
        log.WriteLine($"delivering alerts to {loaded.Subscriptions.Count} subscriptions");
        return new AlertDelivery(new AlertDispatcher(loaded.Subscriptions, channels, ledger), log);
    }

    private static async Task ReportProgressAsync(PipelineRunner runner, TextWriter log, CancellationToken ct)
    {
        try
        {
            var mark = runner.Status.MarkStoreLatency();
            var stages = StageClock.Mark(runner.Status.StageClocks);
            while (!ct.IsCancellationRequested && runner.Status.State is "starting" or "running")
            {
                await Task.Delay(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
                var s = runner.Status;
                // Latency of this interval's posts only: a slow minute shows here, not diluted by the whole run.
                var (p50, p99, n) = s.StoreLatencySince(mark);
                mark = s.MarkStoreLatency();
                // The stage that held the others back in this interval (busy while they waited), if any ran.
                var now = StageClock.Mark(s.StageClocks);
                var busiest = StageClock.Busiest(s.StageClocks, stages, now) is { } b ? string.Create(CultureInfo.InvariantCulture, $"; busiest stage {b.Stage} {b.Share:P0}") : "";
                stages = now;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{s.Elapsed:hh\\:mm\\:ss}] event time {s.EventTime:yyyy-MM-dd HH:mm}Z: read {s.Read}, stored {s.Stored}, flagged {s.Flagged}, dead letters {s.DeadLettered}, alert updates {s.AlertsRaised}; latency p50 {p50:F0} ms, p99 {p99:F0} ms ({n} posts){busiest}"));
            }
        }
        catch (OperationCanceledException) { }
    }

    internal static IPipelineStore OpenStore(string spec)
    {
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var path = Path.GetFullPath(spec[7..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new SqliteStore(path);
        }
        if (spec.StartsWith("elasticsearch:", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(spec[14..], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new UsageException($"--store elasticsearch:URL needs an http(s) URL, not '{spec[14..]}'");
            return new ElasticsearchStore(new ElasticsearchOptions
            {
                Url = url,
                Authorization = Environment.GetEnvironmentVariable("EARLYWARNING_ES_AUTHORIZATION"),
            });
        }
        throw new UsageException($"unknown store '{spec}' (use sqlite:PATH or elasticsearch:URL)");
    }
}

/// <summary>A command-line mistake: reported with the usage text and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Minimal option parser: <c>--name value</c>, repeated values (<c>--data a b</c>), and flags.</summary>
internal sealed class Args
{
    private static readonly HashSet<string> Flags = ["until-end", "no-dashboard", "json", "reidentifiable"];
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public static Args Parse(string[] args)
    {
        var a = new Args();
        string? current = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg[2..];
                string? inline = null;
                var eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
                if (!a._values.TryGetValue(name, out var list)) a._values[name] = list = [];
                if (inline is not null) { list.Add(inline); current = null; }
                else current = Flags.Contains(name) ? null : name;
            }
            else if (current is not null) a._values[current].Add(arg);
            else throw new UsageException($"unexpected argument '{arg}'");
        }
        return a;
    }

    public bool Flag(string name) => _values.ContainsKey(name);
    public string? Optional(string name) =>
        _values.TryGetValue(name, out var v) ? v.Count > 0 ? v[^1] : throw new UsageException($"--{name} needs a value") : null;
    public string Required(string name) => Optional(name) ?? throw new UsageException($"--{name} is required");
    public IReadOnlyList<string> Many(string name) =>
        _values.TryGetValue(name, out var v) && v.Count > 0 ? v : throw new UsageException($"--{name} is required");
    public int Int(string name, int fallback) => IntOrNull(name) ?? fallback;
    public int? IntOrNull(string name) => Optional(name) is { } s
        ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"--{name} takes a whole number, not '{s}'")
        : null;
    public double? DoubleOrNull(string name) => Optional(name) is { } s
        ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new UsageException($"--{name} takes a non-negative number, not '{s}'")
        : null;
}
