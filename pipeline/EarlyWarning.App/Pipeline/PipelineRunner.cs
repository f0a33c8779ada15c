using System.Diagnostics;
using System.Threading.Channels;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// The running pipeline: source → decode → classify → network → signals → store, each stage one task, connected by bounded
/// channels (back-pressure, bounded memory). Offsets are checkpointed in the same store transaction as the data
/// they reflect, so a restart resumes after the last stored message and nothing acknowledged is lost.
/// </summary>
public sealed class PipelineRunner
{
    private const string SignalsStateKey = "signals";
    private const string NetworkStateKey = "network";
    /// <summary>The offsets (source → last offset) the saved stage state reflects; written in the same transaction.</summary>
    private const string OffsetsStateKey = "offsets";

    private readonly PipelineOptions _o;
    private readonly IMessageSource _source;
    private readonly IPipelineStore _store;
    private readonly PostClassifier _classifier;
    private readonly Pseudonymizer _pseudonymizer;
    private readonly TextWriter _log;
    private readonly PostDecoder _decoder;
    /// <summary>The decode task's per-post pseudonyms (only that task uses it).</summary>
    private readonly PseudonymMemo _pseudonyms;
    /// <summary>MinHash signature arrays, from classify to the network stage and back.</summary>
    private readonly SignaturePool _signatures = new();
    /// <summary>Held by the network stage while it changes the network's state (and by readers of it).</summary>
    private readonly object _networkLock = new();
    /// <summary>Held by the signals stage while it changes the signal engine's state (and by readers of it).</summary>
    private readonly object _signalsLock = new();

    public PipelineRunner(PipelineOptions options, IMessageSource source, IPipelineStore store, PostClassifier classifier,
        Pseudonymizer pseudonymizer, SignalEngine signals, NetworkEngine network, TextWriter? log = null)
    {
        _o = options;
        _source = source;
        _store = store;
        _classifier = classifier;
        _pseudonymizer = pseudonymizer;
        Signals = signals;
        Network = network;
        _log = log ?? TextWriter.Null;
        _decoder = new PostDecoder(options.MaxMessageBytes);
        _pseudonyms = new PseudonymMemo(pseudonymizer);
        Status.Source = source.Name;
    }

    public PipelineStatus Status { get; } = new();

    /// <summary>
    /// Receives the read→stored latency of every stored post, once per committed store transaction (set by
    /// <see cref="Observability.PipelineMetrics.For"/>); null records nothing beyond <see cref="Status"/>.
    /// </summary>
    public Observability.PipelineMetrics? Metrics { get => Volatile.Read(ref _metrics); set => Volatile.Write(ref _metrics, value); }
    private Observability.PipelineMetrics? _metrics;

    /// <summary>The source's consumer lag per position (see <see cref="IMessageSource.Lag"/>).</summary>
    public IEnumerable<KeyValuePair<string, long>> SourceLag() => _source.Lag();

    /// <summary>Where stored alerts go for delivery to subscribers (webhook, email, topic); null delivers nothing.</summary>
    public AlertDelivery? Delivery { get; init; }

    /// <summary>
    /// Encrypts dead letters' original bytes before they reach the store (they were never pseudonymised); null stores
    /// them as they came (tests of the store's own behaviour only).
    /// </summary>
    public Safeguards.DeadLetterCipher? DeadLetterCipher { get; init; }

    /// <summary>
    /// When set and enabled (<c>run --reidentifiable</c>), the decode stage hands it each post's account identifiers
    /// before they are pseudonymised, and the store stage writes their encrypted map with every batch, before the
    /// source may commit: an admin can then re-identify a pseudonym (audited). Null or disabled: nothing is kept.
    /// </summary>
    public Safeguards.ReidentificationService? Reidentification { get; init; }

    /// <summary>(country, region, target group) scopes that have seen flagged posts: the dashboard's timeline series.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<(string Country, string Region, string TargetGroup), byte> SeriesScopes { get; } = new();

    /// <summary>Accounts (pseudonyms) named by coordinated-campaign signals.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, byte> CoordinatedAccounts { get; } = new(StringComparer.Ordinal);
    public SignalEngine Signals { get; }
    public NetworkEngine Network { get; }

    /// <summary>
    /// Runs <paramref name="read"/> under the locks the network and signals stages hold while they change their state.
    /// The network stage may be a batch or two ahead of the signals stage.
    /// </summary>
    public T WithAnalysis<T>(Func<NetworkEngine, SignalEngine, T> read)
    {
        lock (_networkLock)
        lock (_signalsLock)
            return read(Network, Signals);
    }

    /// <summary>Runs <paramref name="read"/> under the network stage's lock only (the signals stage goes on).</summary>
    public T WithNetwork<T>(Func<NetworkEngine, T> read)
    {
        lock (_networkLock) return read(Network);
    }

    /// <summary>Runs <paramref name="read"/> under the signals stage's lock only (the network stage goes on).</summary>
    public T WithSignals<T>(Func<SignalEngine, T> read)
    {
        lock (_signalsLock) return read(Signals);
    }

    /// <summary>
    /// Runs until the source ends (finite sources) or <paramref name="stopReading"/> fires; either way every message
    /// already read is processed and stored before this returns.
    /// </summary>
    public async Task RunAsync(CancellationToken stopReading)
    {
        // The stage state and the offsets it reflects were stored together; reading resumes from those offsets (not
        // from the newer batch checkpoints), so the detectors see every post after their state exactly once. Posts
        // between the two are stored again, idempotently, and re-derive the same alert ids.
        var stateOffsets = await RestoreStateAsync().ConfigureAwait(false);
        var resume = _source.ResumeFrom(stateOffsets);
        if (resume is not null) _log.WriteLine($"resuming {_source.Name} after offset {resume}");
        else if (stateOffsets.Count > 0) _log.WriteLine($"resuming {_source.Name} from the offsets of the stored stage state ({stateOffsets.Count} positions)");

        var raw = Channel.CreateBounded<ReadMessage>(new BoundedChannelOptions(_o.RawChannelCapacity) { SingleReader = true, SingleWriter = true });
        var decoded = Channel.CreateBounded<WorkBatch>(new BoundedChannelOptions(_o.BatchChannelCapacity) { SingleReader = true, SingleWriter = true });
        var classified = Channel.CreateBounded<WorkBatch>(new BoundedChannelOptions(_o.BatchChannelCapacity) { SingleReader = true, SingleWriter = true });
        var observed = Channel.CreateBounded<AnalysedBatch>(new BoundedChannelOptions(_o.BatchChannelCapacity) { SingleReader = true, SingleWriter = true });
        var toStore = Channel.CreateBounded<StoreBatch>(new BoundedChannelOptions(_o.BatchChannelCapacity) { SingleReader = true, SingleWriter = true });
        Status.QueueDepths = [() => raw.Reader.Count, () => decoded.Reader.Count, () => classified.Reader.Count, () => observed.Reader.Count, () => toStore.Reader.Count];
        var networkFinished = new TaskCompletionSource<(bool Flush, List<Signal> Signals)>(TaskCreationOptions.RunContinuationsAsynchronously);
        Status.State = "running";

        var sourceDrained = false;
        // One failing stage must end the run, not hang it: the others would wait forever on channels nobody reads or
        // writes any more (a store that fails its write left every stage blocked on a full channel). The first failure
        // closes every channel with it, so blocked writers and readers all stop, and it is what the run throws.
        Exception? firstFailure = null;
        using var readStop = CancellationTokenSource.CreateLinkedTokenSource(stopReading); // also stops a source waiting for messages
        Task Stage(Func<Task> body) => Task.Run(async () =>
        {
            try { await body().ConfigureAwait(false); }
            catch (Exception ex)
            {
                if (Interlocked.CompareExchange(ref firstFailure, ex, null) is null)
                {
                    raw.Writer.TryComplete(ex);
                    decoded.Writer.TryComplete(ex);
                    classified.Writer.TryComplete(ex);
                    observed.Writer.TryComplete(ex);
                    toStore.Writer.TryComplete(ex);
                    readStop.Cancel();
                }
                throw;
            }
        });
        var tasks = new[]
        {
            Stage(async () =>
            {
                var clock = Status.ReadClock;
                clock.Start();
                var messages = _source.ReadAsync(resume, readStop.Token).GetAsyncEnumerator();
                try
                {
                    while (await clock.MoveNextAsync(messages).ConfigureAwait(false))
                    {
                        Status.AddRead(1);
                        // Latency starts here, when the source hands the message over, not when decode reaches it.
                        await clock.WriteAsync(raw.Writer, new ReadMessage(messages.Current, Stopwatch.GetTimestamp())).ConfigureAwait(false);
                    }
                    sourceDrained = !stopReading.IsCancellationRequested;
                }
                finally
                {
                    raw.Writer.TryComplete();
                    clock.Stop();
                    await messages.DisposeAsync().ConfigureAwait(false);
                }
            }),
            Stage(() => DecodeAsync(raw.Reader, decoded.Writer)),
            Stage(() => ClassifyAsync(decoded.Reader, classified.Writer)),
            Stage(() => NetworkStageAsync(classified.Reader, observed.Writer, () => sourceDrained && _source.IsFinite && _o.FlushAtEnd, networkFinished)),
            Stage(() => SignalsStageAsync(observed.Reader, toStore.Writer, stateOffsets, networkFinished.Task)),
            Stage(() => StoreAsync(toStore.Reader)),
        };
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
            Status.State = sourceDrained ? "finished" : "stopped";
        }
        catch (Exception ex)
        {
            Status.State = "failed";
            // The cause, not a stage that stopped because of it (a closed channel).
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Volatile.Read(ref firstFailure) ?? ex);
        }
    }

    /// <summary>A message as the source handed it over, and when (the start of read→stored latency).</summary>
    private readonly record struct ReadMessage(RawMessage Message, long ReadTimestamp);

    private async Task DecodeAsync(ChannelReader<ReadMessage> input, ChannelWriter<WorkBatch> output)
    {
        var clock = Status.DecodeClock;
        clock.Start();
        try
        {
            while (await clock.WaitToReadAsync(input).ConfigureAwait(false))
            {
                var batch = new WorkBatch();
                // Take what is there without waiting: small batches when the stream is slow, full ones when it is fast.
                while (batch.Count < _o.BatchSize && input.TryRead(out var read))
                {
                    var m = read.Message;
                    ref var max = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(batch.Offsets, m.Position.Source, out _);
                    max = Math.Max(max, m.Position.Offset);
                    if (_decoder.TryDecode(m.Bytes, out var post, out var reason))
                    {
                        Reidentification?.Collect(post!);
                        Pseudonymise(post!);
                        batch.Posts.Add(new PostEnvelope { Post = post!, Position = m.Position, ReadTimestamp = read.ReadTimestamp });
                    }
                    else
                    {
                        var kept = DeadLetterCipher is { } cipher ? cipher.Seal(m.Bytes.Span) : m.Bytes;
                        batch.DeadLetters.Add(new DeadLetter(m.Position, reason!, kept, DateTimeOffset.UtcNow));
                    }
                }
                Status.AddDecoded(batch.Posts.Count);
                Status.AddDeadLettered(batch.DeadLetters.Count);
                await clock.WriteAsync(output, batch).ConfigureAwait(false);
            }
        }
        finally
        {
            output.TryComplete(); // TryComplete: a failing stage may have closed it already
            clock.Stop();
        }
    }

    private void Pseudonymise(Post post)
    {
        if (!_pseudonymizer.Enabled) return;
        // The ids the rewritten JSON names are the decoded fields' ids: each is hashed once for both, the decoded fields
        // first, so the rewrite finds them in the memo without reading them out of the JSON again.
        var memo = _pseudonyms;
        try
        {
            post.AuthorId = memo.Get(post.AuthorId);
            if (post.AuthorHandle is not null) post.AuthorHandle = memo.Get(post.AuthorHandle);
            if (post.ReportedBy is not null) post.ReportedBy = memo.Get(post.ReportedBy);
            if (post.Mentions.Count > 0)
            {
                var m = new string[post.Mentions.Count];
                for (var i = 0; i < m.Length; i++) m[i] = memo.Get(post.Mentions[i]);
                post.Mentions = m;
            }
            post.Raw = RawSanitizer.Rewrite(post.Raw.Span, memo);
        }
        finally { memo.Clear(); }
    }

    private async Task ClassifyAsync(ChannelReader<WorkBatch> input, ChannelWriter<WorkBatch> output)
    {
        var clock = Status.ClassifyClock;
        clock.Start();
        try
        {
            var extras = new PostTextExtras { Signatures = _signatures };
            // The classifier normalises each post once and hands the text back; MinHash and token hashes reuse it
            // (unless a custom lexicon normalises differently from the extras' default steps).
            var reuse = _classifier.TextNormalization == PostTextExtras.Steps;
            var normalized = new string[_o.BatchSize];
            while (await clock.WaitToReadAsync(input).ConfigureAwait(false))
            {
                if (!input.TryRead(out var batch)) continue;
                if (batch.Posts.Count > 0)
                {
                    if (normalized.Length < batch.Posts.Count) normalized = new string[batch.Posts.Count];
                    _classifier.ClassifyBatch(batch.Posts, normalized);
                    long flagged = 0;
                    for (var i = 0; i < batch.Posts.Count; i++)
                    {
                        var e = batch.Posts[i];
                        var flaggedPost = e.Decision is { IsFlagged: true };
                        if (flaggedPost) flagged++;
                        if (reuse) extras.Fill(e, normalized[i], flaggedPost);
                        else extras.FillFromRaw(e, flaggedPost);
                    }
                    Array.Clear(normalized, 0, batch.Posts.Count);
                    Status.AddClassified(batch.Posts.Count, flagged);
                }
                await clock.WriteAsync(output, batch).ConfigureAwait(false);
            }
        }
        finally
        {
            output.TryComplete(); // TryComplete: a failing stage may have closed it already
            clock.Stop();
        }
    }

    /// <summary>A batch the network stage has observed, handed to the signals stage.</summary>
    private sealed class AnalysedBatch
    {
        public required WorkBatch Batch { get; init; }
        /// <summary>Signals the network stage raised, each after the post (index in the batch) that raised it.</summary>
        public List<(int Post, Signal Signal)> NetworkSignals { get; } = [];
        /// <summary>The network state as it stood after this batch, when a checkpoint is due; the signals stage adds its own.</summary>
        public StateCapture? NetworkState { get; set; }
        public TimeSpan NetworkHeld { get; set; }
    }

    /// <summary>1 while a checkpoint is being taken or encoded (the network stage starts no other until the signals stage is done with it).</summary>
    private int _stateInFlight;
    /// <summary>The wait before the next checkpoint (ticks), set by the signals stage from the last one's cost.</summary>
    private long _stateIntervalTicks;

    /// <summary>
    /// The network stage: every post goes through <see cref="NetworkEngine.Observe"/> in stream order; the signals it
    /// raises travel with the batch, tagged with the post that raised them, so the signals stage feeds them to the alert
    /// rules at the same point of the stream as a single analysis thread would. At the end of the stream (finite
    /// sources) it flushes the network's windows.
    /// </summary>
    private async Task NetworkStageAsync(ChannelReader<WorkBatch> input, ChannelWriter<AnalysedBatch> output, Func<bool> flushAtEnd,
        TaskCompletionSource<(bool Flush, List<Signal> Signals)> finished)
    {
        var lastState = Stopwatch.StartNew();
        Interlocked.Exchange(ref _stateIntervalTicks, _o.StateCheckpointInterval.Ticks);
        Volatile.Write(ref _stateInFlight, 0);
        var drained = new List<Signal>();
        var clock = Status.NetworkClock;
        clock.Start();
        try
        {
            while (await clock.WaitToReadAsync(input).ConfigureAwait(false))
            {
                if (!input.TryRead(out var batch)) continue;
                var item = new AnalysedBatch { Batch = batch };
                lock (_networkLock)
                {
                    var posts = batch.Posts;
                    for (var i = 0; i < posts.Count; i++)
                    {
                        Network.Observe(posts[i]);
                        drained.Clear();
                        if (Network.DrainSignals(drained) > 0)
                            foreach (var signal in drained) item.NetworkSignals.Add((i, signal));
                    }
                    // The network index holds its own copies of the signatures; nothing after this stage reads them.
                    _signatures.ReturnAll(posts);
                    if (lastState.Elapsed.Ticks >= Interlocked.Read(ref _stateIntervalTicks) && Interlocked.CompareExchange(ref _stateInFlight, 1, 0) == 0)
                    {
                        var started = Stopwatch.GetTimestamp();
                        item.NetworkState = Network.CaptureState();
                        item.NetworkHeld = Stopwatch.GetElapsedTime(started);
                        lastState.Restart();
                    }
                }
                await clock.WriteAsync(output, item).ConfigureAwait(false);
            }
            var flush = flushAtEnd();
            var last = new List<Signal>();
            lock (_networkLock)
            {
                if (flush) Network.Flush();
                Network.DrainSignals(last);
            }
            finished.TrySetResult((flush, last));
        }
        catch (Exception ex)
        {
            finished.TrySetException(ex);
            throw;
        }
        finally
        {
            output.TryComplete(); // TryComplete: a failing stage may have closed it already
            clock.Stop();
        }
    }

    /// <summary>
    /// The signals stage: for each post, the network signals it raised go to the alert rules, then the post itself; then
    /// the batch's alerts, aggregates, flagged posts and evidence go to the store, with the stage state when a
    /// checkpoint was taken (the network's as the network stage left it after this batch, the signals' now: both
    /// reflect the same posts and offsets).
    /// </summary>
    private async Task SignalsStageAsync(ChannelReader<AnalysedBatch> input, ChannelWriter<StoreBatch> output,
        IReadOnlyDictionary<string, long> restoredOffsets, Task<(bool Flush, List<Signal> Signals)> networkFinished)
    {
        var evidence = new EvidenceCache(_o.EvidenceCacheSize);
        var alerts = new List<Alert>();
        var aggregates = new List<SeriesPoint>();
        Task<CapturedState>? pending = null;
        // Everything the state reflects, including positions restored and not read again in this run.
        var lastOffsets = new Dictionary<string, long>(restoredOffsets, StringComparer.Ordinal);
        var clock = Status.SignalsClock;
        clock.Start();
        try
        {
            while (await clock.WaitToReadAsync(input).ConfigureAwait(false))
            {
                if (!input.TryRead(out var item)) continue;
                var batch = item.Batch;
                var sb = new StoreBatch();
                foreach (var (source, offset) in batch.Offsets)
                {
                    sb.Checkpoints[source] = offset;
                    lastOffsets[source] = Math.Max(offset, lastOffsets.GetValueOrDefault(source, -1));
                }
                lock (_signalsLock)
                {
                    var raised = item.NetworkSignals;
                    var next = 0;
                    var posts = batch.Posts;
                    for (var i = 0; i < posts.Count; i++)
                    {
                        var e = posts[i];
                        // Network signals go to the alert rules right after the post that produced them, so alert
                        // windows (and so alert ids) never depend on where batch boundaries fell.
                        for (; next < raised.Count && raised[next].Post == i; next++) Forward(raised[next].Signal);
                        Signals.Observe(e);
                        // Only flagged mode stores evidence posts from the cache (all mode has stored them already).
                        if (_o.StorePosts == StorePostsMode.Flagged) evidence.Add(e);
                        if (e.Decision is { IsFlagged: true, Target: { } target } && e.Post.Country is { } c && e.Post.Region is { } r)
                            SeriesScopes.TryAdd((c, r, target), 0);
                    }
                    Signals.Drain(alerts, aggregates);
                    if (item.NetworkState is { } network)
                        pending = CaptureState(lastOffsets, network, item.NetworkHeld);
                }
                // The state is encoded on another thread while the analysis goes on; it joins the first batch stored
                // after it is ready (with the offsets it reflects, in one transaction).
                if (pending is { IsCompleted: true })
                {
                    var ready = await pending.ConfigureAwait(false);
                    pending = null;
                    foreach (var (key, bytes) in ready.State) sb.State[key] = bytes;
                    Status.RecordStateSave(ready.Held, ready.Took, ready.Bytes);
                    Interlocked.Exchange(ref _stateIntervalTicks, _o.NextStateInterval(ready.Took).Ticks);
                    Volatile.Write(ref _stateInFlight, 0);
                }
                foreach (var e in batch.Posts)
                    if (_o.StorePosts == StorePostsMode.All || e.Decision is { IsFlagged: true }) sb.Posts.Add(e);
                if (alerts.Count > 0 && batch.Posts.Count > 0) sb.AlertsReadTimestamp = OldestRead(batch.Posts);
                AddAlerts(sb, alerts, aggregates, evidence);
                sb.DeadLetters.AddRange(batch.DeadLetters);
                if (batch.Posts.Count > 0) Status.SetEventTime(batch.Posts[^1].Post.CreatedAt);
                await clock.WriteAsync(output, sb).ConfigureAwait(false);
            }

            // The network stage has finished (its channel is complete): its flush, and the signals that raised.
            var (flush, last) = await networkFinished.ConfigureAwait(false);
            // The final state below supersedes one still being encoded: that one is dropped (its chunks pooled again).
            if (pending is not null) Release((await pending.ConfigureAwait(false)).State);
            var final = new StoreBatch();
            lock (_networkLock)
            lock (_signalsLock)
            {
                if (flush) Signals.Flush();
                foreach (var signal in last) Forward(signal);
                Signals.Drain(alerts, aggregates);
                SaveState(final, lastOffsets);
            }
            _log.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"stage state: {Status.StateSaves} checkpoints, last {Status.LastStateBytes / 1024.0:F0} KiB in {Status.LastStateSaveTime.TotalMilliseconds:F0} ms ({Status.LastStateHoldTime.TotalMilliseconds:F0} ms holding the analysis); the analysis held {Status.TotalStateHoldTime.TotalMilliseconds:F0} ms in all, {Status.LongestStateHoldTime.TotalMilliseconds:F0} ms at most"));
            AddAlerts(final, alerts, aggregates, evidence);
            await clock.WriteAsync(output, final).ConfigureAwait(false);
        }
        finally
        {
            output.TryComplete(); // TryComplete: a failing stage may have closed it already
            clock.Stop();
        }
    }

    /// <summary>A network signal to the alert rules (and its accounts to the dashboard's coordinated set). Under the signals lock.</summary>
    private void Forward(Signal s)
    {
        Signals.AddSignal(s);
        if (s.Kind == AlertKinds.CoordinatedCampaign)
            foreach (var a in s.Evidence.Accounts) CoordinatedAccounts.TryAdd(a, 0);
    }

    /// <summary>Both stages' state and the offsets it reflects, encoded now into one batch (hence one transaction).</summary>
    private void SaveState(StoreBatch sb, Dictionary<string, long> offsets)
    {
        var ready = Capture(offsets).Encode();
        foreach (var (key, bytes) in ready.State) sb.State[key] = bytes;
        // Encoded in place: the analysis was held for all of it.
        Status.RecordStateSave(ready.Took, ready.Took, ready.Bytes);
    }

    /// <summary>Stage state taken at one instant and encoded: the time the analysis was held, the whole cost, the size.</summary>
    private sealed record CapturedState(Dictionary<string, StateBlob> State, TimeSpan Held, TimeSpan Took, long Bytes);

    private static void Release(Dictionary<string, StateBlob> state)
    {
        foreach (var blob in state.Values) blob.Dispose();
    }

    /// <summary>
    /// Adds the signals state and the offsets to a network state the network stage captured after the same batch, and
    /// encodes the network state on the thread pool. Same bytes as <see cref="SaveState"/> would write at this point of
    /// the stream. The caller holds the signals lock.
    /// </summary>
    private Task<CapturedState> CaptureState(Dictionary<string, long> offsets, StateCapture network, TimeSpan networkHeld)
    {
        var capture = Capture(offsets, network, networkHeld);
        return Task.Run(capture.Encode);
    }

    /// <summary>
    /// The signals state and the offsets are small and written at once; the network state is a copy (see
    /// <see cref="NetworkEngine.CaptureState"/>) for <see cref="StageCapture.Encode"/>. Held: the time the two stages
    /// were held for it. The caller holds the signals lock (and the network lock when it captures the network itself).
    /// </summary>
    private StageCapture Capture(Dictionary<string, long> offsets, StateCapture? network = null, TimeSpan networkHeld = default)
    {
        var started = Stopwatch.GetTimestamp();
        // Written into pooled chunks, as the network state is (see StateBlob): no large array per checkpoint.
        var signals = new StateBlob();
        Signals.SaveState(signals);
        var state = new Dictionary<string, StateBlob>(StringComparer.Ordinal)
        {
            [SignalsStateKey] = signals,
            [OffsetsStateKey] = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(offsets),
        };
        network ??= Network.CaptureState();
        return new StageCapture(state, network, networkHeld + Stopwatch.GetElapsedTime(started));
    }

    private sealed record StageCapture(Dictionary<string, StateBlob> State, StateCapture Network, TimeSpan Held)
    {
        public CapturedState Encode()
        {
            var started = Stopwatch.GetTimestamp();
            State[NetworkStateKey] = Network.EncodeToBlob();
            var took = Held + Stopwatch.GetElapsedTime(started);
            return new CapturedState(State, Held, took, State.Values.Sum(v => (long)v.Length));
        }
    }

    /// <summary>
    /// Restores both stages and returns the offsets their state reflects; empty (start from the beginning, detectors
    /// cold) when there is no complete state or it cannot be read.
    /// </summary>
    private async Task<Dictionary<string, long>> RestoreStateAsync()
    {
        var offsetsBytes = await _store.GetStateAsync(OffsetsStateKey).ConfigureAwait(false);
        if (offsetsBytes is null) return new(StringComparer.Ordinal);
        try
        {
            var offsets = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long>>(offsetsBytes)
                          ?? throw new InvalidDataException("null offsets");
            var s = await _store.GetStateAsync(SignalsStateKey).ConfigureAwait(false) ?? throw new InvalidDataException("signals state missing");
            var n = await _store.GetStateAsync(NetworkStateKey).ConfigureAwait(false) ?? throw new InvalidDataException("network state missing");
            Signals.LoadState(s);
            Network.LoadState(n);
            return new Dictionary<string, long>(offsets, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException or EndOfStreamException
                                       or System.Text.Json.JsonException)
        {
            _log.WriteLine($"stored stage state could not be restored ({ex.GetType().Name}: {ex.Message}); reading from the beginning with cold detectors");
            return new(StringComparer.Ordinal);
        }
    }

    private void AddAlerts(StoreBatch sb, List<Alert> alerts, List<SeriesPoint> aggregates, EvidenceCache evidence)
    {
        if (alerts.Count > 0)
        {
            Status.AddAlerts(alerts.Count);
            sb.Alerts.AddRange(alerts);
            if (_o.StorePosts == StorePostsMode.Flagged)
            {
                var have = new HashSet<string>(sb.Posts.Select(p => p.Post.Id), StringComparer.Ordinal);
                var unreadable = evidence.Unreadable;
                foreach (var a in alerts)
                    foreach (var id in a.Evidence.PostIds)
                        if (!have.Contains(id) && evidence.TryGetUnflagged(id, out var e) && have.Add(id))
                        {
                            sb.Posts.Add(e);
                            sb.EvidencePosts++;
                        }
                if (evidence.Unreadable > unreadable)
                    _log.WriteLine($"warning: {evidence.Unreadable - unreadable} unflagged post(s) an alert cites could not be read back from their kept JSON and were not stored as evidence ({evidence.Unreadable} in this run)");
            }
        }
        sb.Aggregates.AddRange(aggregates);
        alerts.Clear();
        aggregates.Clear();
    }

    private async Task StoreAsync(ChannelReader<StoreBatch> input)
    {
        var decided = new List<PostEnvelope>();
        var alertReads = new List<(long Read, int Alerts)>();
        var clock = Status.StoreClock;
        clock.Start();
        try
        {
            while (await clock.WaitToReadAsync(input).ConfigureAwait(false))
            {
                // Coalesce whatever is queued into one transaction, up to a size bound.
                var merged = new StoreBatch();
                decided.Clear();
                alertReads.Clear();
                while (merged.Posts.Count < _o.StoreBatchPosts && input.TryRead(out var b))
                {
                    // Decision latency is measured on the posts read with each batch, not on evidence stored later.
                    decided.AddRange(b.Posts.Take(b.Posts.Count - b.EvidencePosts));
                    if (b.AlertsReadTimestamp != 0) alertReads.Add((b.AlertsReadTimestamp, b.Alerts.Count));
                    Merge(merged, b);
                }
                if (merged.IsEmpty) continue;
                try { await _store.WriteAsync(merged).ConfigureAwait(false); }
                finally { Release(merged.State); } // written (or failed): the state's chunks go back to the pool
                if (Reidentification is { Enabled: true } reid) await reid.FlushAsync().ConfigureAwait(false);
                // Only now is the batch durable: the source may commit its offsets (at-least-once).
                _source.Acknowledge(merged.Checkpoints);
                // Latency ends at the acknowledgement, not after alert delivery is queued (which may wait on subscribers).
                var now = Stopwatch.GetTimestamp();
                // Delivery's queue full (a slow subscriber): the store waits on what comes after it.
                if (Delivery is not null && merged.Alerts.Count > 0) await clock.BackPressured(Delivery.EnqueueAsync(merged.Alerts)).ConfigureAwait(false);
                foreach (var p in decided) Status.RecordLatency(p.ReadTimestamp, now);
                foreach (var (read, count) in alertReads)
                    for (var i = 0; i < count; i++) Status.RecordAlertLatency(read, now);
                Metrics?.RecordStored(decided, now);
                Status.AddStored(merged.Posts.Count);
            }
        }
        finally { clock.Stop(); }
    }

    private static long OldestRead(List<PostEnvelope> posts)
    {
        var oldest = long.MaxValue;
        foreach (var p in posts) oldest = Math.Min(oldest, p.ReadTimestamp);
        return oldest;
    }

    private static void Merge(StoreBatch into, StoreBatch from)
    {
        into.Posts.AddRange(from.Posts);
        into.DeadLetters.AddRange(from.DeadLetters);
        // A later version of the same alert supersedes an earlier one within the transaction.
        foreach (var a in from.Alerts)
        {
            var i = into.Alerts.FindIndex(x => x.Id == a.Id);
            if (i >= 0) into.Alerts[i] = a; else into.Alerts.Add(a);
        }
        into.Aggregates.AddRange(from.Aggregates);
        foreach (var (k, v) in from.Checkpoints) into.Checkpoints[k] = Math.Max(v, into.Checkpoints.GetValueOrDefault(k));
        foreach (var (k, v) in from.State)
        {
            // A newer state of the same stage supersedes the older one within the transaction.
            if (into.State.TryGetValue(k, out var older) && !ReferenceEquals(older, v)) older.Dispose();
            into.State[k] = v;
        }
    }

    private sealed class WorkBatch
    {
        public List<PostEnvelope> Posts { get; } = [];
        public List<DeadLetter> DeadLetters { get; } = [];
        /// <summary>Largest offset read per source (a Kafka batch spans partitions, each its own source).</summary>
        public Dictionary<string, long> Offsets { get; } = new(StringComparer.Ordinal);
        public int Count => Posts.Count + DeadLetters.Count;
    }
}
