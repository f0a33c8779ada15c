using System.Globalization;
using System.Text.Json;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Signals.Detection;

namespace EarlyWarning.Signals.Engine;

/// <summary>
/// The signals stage: counts posts per series in event time, runs the detectors, turns signals into alerts.
/// One instance, one thread, stream order; event time only (never the wall clock), so the same stream gives the
/// same alerts. Watermark = largest event time seen − <see cref="SignalOptions.Lateness"/>; a bucket closes when
/// the watermark passes its end. Detects <c>volume_spike</c> (eagerly, on every hateful post, over a rolling
/// window), <c>incitement</c>, <c>emerging_term</c> and <c>volume_drop</c>; <see cref="AddSignal"/> takes signals
/// from other stages (e.g. <c>coordinated_campaign</c>).
/// </summary>
public sealed class SignalEngine
{
    private static readonly JsonSerializerOptions Json = new() { IncludeFields = true };
    private const int MaxRecent = 200;
    private const int ExcerptLength = 140;
    private const int DropRecentMinutes = 30;

    private readonly SignalOptions _o;
    private readonly AlertRules _rules;
    private readonly long _latenessSec;
    private EngineState _st = new();

    public SignalEngine(SignalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _o = options;
        _rules = new AlertRules(options);
        _latenessSec = (long)options.Lateness.TotalSeconds;
    }

    /// <summary>Counters: posts seen, late posts, evictions, alerts.</summary>
    public SignalEngineStats Stats => _st.Stats;

    /// <summary>The current watermark (null before the first post).</summary>
    public DateTimeOffset? Watermark => _st.Started ? DateTimeOffset.FromUnixTimeSeconds(_st.MaxEventSec - _latenessSec) : null;

    /// <summary>Number of live series (hateful volume + regional traffic) and term trackers.</summary>
    public (int Hate, int Traffic, int Terms) SeriesCount => (_st.Hate.Count, _st.Traffic.Count, _st.Terms.Count);

    /// <summary>Takes the next post in stream order (its Decision filled by the classify stage).</summary>
    public void Observe(PostEnvelope e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var p = e.Post;
        var t = p.CreatedAt.ToUnixTimeSeconds();
        var st = _st;
        if (!st.Started)
        {
            st.Started = true;
            st.FirstEventSec = t;
            st.MaxEventSec = t;
            st.ClosedMinute = FloorDiv(t, 60);
            st.ClockMinute = st.ClosedMinute;
            st.AggClosedBefore = FloorDiv(t, AggSec) * AggSec;
        }
        if (t > st.MaxEventSec)
        {
            st.MaxEventSec = t;
            Advance(false);
        }
        st.Stats.PostsObserved++;
        var minute = FloorDiv(t, 60);
        if (minute < st.ClosedMinute) st.Stats.LatePosts++;

        var d = e.Decision;
        if (d is null) st.Stats.Unclassified++;
        var country = p.Country ?? "";
        var region = p.Region ?? "";
        var target = d?.Target ?? "";
        AddAggregate(t, country, region, target, d?.Label ?? Labels.None);
        AddTraffic(minute, country, region);
        if (d is not null) ObserveDecision(e, d, minute, country, region);
        // After the term check, so that a post is never its own "prior use".
        AddVocabulary(e, country, minute);
    }

    private void ObserveDecision(PostEnvelope e, Decision d, long minute, string country, string region)
    {
        var p = e.Post;
        var target = d.Target ?? "";
        foreach (var term in d.Terms) AddKnownTerm(term);
        if (!d.IsFlagged) return;
        var hateful = d.Label == Labels.Hate || d.Incitement >= _o.IncitementMin || d.Dehumanisation >= _o.IncitementMin;
        var ev = new EvidencePost
        {
            Id = p.Id,
            Account = p.AuthorId,
            Followers = p.AuthorFollowers,
            Minute = minute,
            Hate = d.Label == Labels.Hate,
            Incite = d.Incitement >= _o.IncitementMin,
            Dehum = d.Dehumanisation >= _o.IncitementMin,
            Terms = d.Terms.Count > 5 ? d.Terms.GetRange(0, 5) : [.. d.Terms],
        };
        if (hateful) ObserveHateful(ev, p, country, region, target);
        if (ev.Incite && d.Target is not null) ObserveIncitement(ev, p, country, region, d.Target);
        if (e.Tokens is { Length: > 0 } tokens)
        {
            if (p.RepostOf is null) ObserveTerms(ev, p, country, target, p.Lang ?? "", tokens);
            else _st.Stats.RepostsSkippedForTerms++;
        }
    }

    /// <summary>Takes a signal from another stage (e.g. <c>coordinated_campaign</c>) and applies the alert rules to it.</summary>
    public void AddSignal(Signal s)
    {
        ArgumentNullException.ThrowIfNull(s);
        _st.Stats.SignalsRaised++;
        var f = new Rabat.Factors(0, 0, s.IncitementShare, s.Reach, s.Evidence.Accounts.Count, s.Observed);
        var severity = Rabat.Rate(f);
        var what = s.Kind.Replace('_', ' ');
        var where = Place(s.Scope.Region, s.Scope.Country);
        var who = s.Scope.TargetGroup is null ? "" : " targeting " + GroupName(s.Scope.TargetGroup);
        int accounts = s.Evidence.Accounts.Count, posts = s.Evidence.PostIds.Count;
        var text = s.Kind == AlertKinds.CoordinatedCampaign
            ? string.Create(CultureInfo.InvariantCulture,
                $"A {what}{who}{where}: {accounts} accounts posted {posts} closely matching posts within minutes of each other; {Rabat.ReviewNote}.")
            : string.Create(CultureInfo.InvariantCulture, $"A {what}{who}{where} involved {posts} posts by {accounts} accounts; {Rabat.ReviewNote}.");
        text = char.ToUpperInvariant(text[0]) + text[1..];
        var at = _st.Started ? DateTimeOffset.FromUnixTimeSeconds(_st.MaxEventSec) : s.WindowEnd;
        _rules.Apply(_st, s, severity, text, at);
    }

    /// <summary>End of a finite stream: closes every bucket and every open alert.</summary>
    public void Flush()
    {
        if (!_st.Started) return;
        Advance(true);
        AlertRules.CloseAll(_st);
        _st.Flushed = true;
    }

    /// <summary>
    /// Moves out the alerts created or updated since the last drain (copies, newest state) and the closed 5-minute
    /// aggregates. Returns how many items were added to the two lists together.
    /// </summary>
    public int Drain(List<Alert> alerts, List<SeriesPoint> aggregates)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(aggregates);
        var st = _st;
        var n = 0;
        foreach (var id in st.Pending)
        {
            Alert? a = null;
            if (!st.Closed.TryGetValue(id, out a))
                foreach (var x in st.Open.Values) if (x.Id == id) { a = x; break; }
            if (a is null) continue;
            alerts.Add(AlertRules.Clone(a));
            n++;
        }
        st.Pending.Clear();
        st.Closed.Clear();
        foreach (var g in st.PendingAggregates)
        {
            aggregates.Add(new SeriesPoint(DateTimeOffset.FromUnixTimeSeconds(g.BucketStart), g.Country, g.Region, g.Target, g.Label, g.Count));
            n++;
        }
        st.PendingAggregates.Clear();
        return n;
    }

    /// <summary>A checkpoint of series, baselines, trackers, open alerts and undrained output.</summary>
    public byte[] SaveState() => JsonSerializer.SerializeToUtf8Bytes(_st, Json);

    /// <summary>
    /// Writes the same bytes as <see cref="SaveState()"/> into <paramref name="output"/> (the pipeline's pooled state
    /// chunks), so a checkpoint does not put the JSON on the large-object heap.
    /// </summary>
    public void SaveState(System.Buffers.IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = Json.Encoder, Indented = Json.WriteIndented, MaxDepth = Json.MaxDepth });
        JsonSerializer.Serialize(w, _st, Json);
    }

    /// <summary>Restores a checkpoint from <see cref="SaveState()"/>; the engine continues as if never stopped.</summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var st = JsonSerializer.Deserialize<EngineState>(state, Json) ?? throw new InvalidDataException("empty signal-engine state");
        if (st.Version != 1) throw new InvalidDataException($"unsupported signal-engine state version {st.Version}");
        _st = st;
    }

    // ---------------------------------------------------------------- time

    private long AggSec => _o.AggregateMinutes * 60L;

    private void Advance(bool flush)
    {
        var st = _st;
        var wm = flush ? (FloorDiv(st.MaxEventSec, 60) + 1) * 60 : st.MaxEventSec - _latenessSec;
        while ((st.ClosedMinute + 1) * 60 <= wm)
        {
            CloseMinute(st.ClosedMinute);
            st.ClosedMinute++;
        }
        var clock = FloorDiv(st.MaxEventSec, 60);
        if (!flush && clock > st.ClockMinute)
        {
            st.ClockMinute = clock;
            CheckDrops(clock);
        }
        CloseAggregates(flush ? long.MaxValue : wm);
        _rules.Expire(st, DateTimeOffset.FromUnixTimeSeconds(wm));
    }

    private void CloseMinute(long m)
    {
        var st = _st;
        var time = DateTimeOffset.FromUnixTimeSeconds(m * 60);
        var maxFreeze = (long)_o.MaxBaselineFreeze.TotalMinutes;
        foreach (var s in st.Hate.Values)
        {
            double c = s.Ring.Get(m);
            if (s.AlarmUntilMinute >= m && s.FrozenMinutes < maxFreeze)
            {
                // Hold the baseline while the series is alarming, so a long spike is not learnt as normal.
                c = Math.Min(c, Math.Max(s.Baseline.UpperExpected(time, _o.MinCellObs), _o.SpikeFloorPerMinute));
                s.FrozenMinutes++;
            }
            else if (s.AlarmUntilMinute < m) s.FrozenMinutes = 0;
            s.Baseline.Learn(time, c, _o.LevelAlpha, _o.CellAlphaMin);
        }
        foreach (var s in st.Traffic.Values)
        {
            double c = s.Ring.Get(m);
            if (s.InDrop && s.FrozenMinutes < maxFreeze)
            {
                c = Math.Max(c, s.Baseline.LowerExpected(time, _o.MinCellObs));
                s.FrozenMinutes++;
            }
            else if (!s.InDrop) s.FrozenMinutes = 0;
            s.Baseline.Learn(time, c, _o.LevelAlpha, _o.CellAlphaMin);
        }
        if (m % 60 == 0) EvictIdle(m);
    }

    private void EvictIdle(long m)
    {
        var idle = (long)_o.SeriesIdle.TotalMinutes;
        var old = _st.Hate.Where(kv => kv.Value.LastTouched < m - idle).Select(kv => kv.Key).ToList();
        foreach (var k in old) _st.Hate.Remove(k);
        _st.Stats.SeriesEvicted += old.Count;
        var horizon = m - _o.TermLookbackHours * 60L - _o.TermWindowMinutes;
        var stale = _st.Terms.Where(kv => kv.Value.LastTouched < horizon).Select(kv => kv.Key).ToList();
        foreach (var k in stale) _st.Terms.Remove(k);
        _st.Stats.TermsEvicted += stale.Count;
        EvictVocabulary(m);
        var ordinaryHorizon = m - 60;
        foreach (var k in _st.OrdinaryIncitement.Where(kv => kv.Value.Count == 0 || kv.Value[^1].Minute < ordinaryHorizon).Select(kv => kv.Key).ToList())
            _st.OrdinaryIncitement.Remove(k);
    }

    /// <summary>Evicts the least recently used entries once a family is over its bound (a tenth at a time).</summary>
    private static int EvictLru<T>(Dictionary<string, T> map, int max, Func<T, long> lastTouched)
    {
        if (map.Count <= max) return 0;
        var n = map.Count - max + Math.Max(1, max / 10);
        var victims = map.OrderBy(kv => lastTouched(kv.Value)).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(n).Select(kv => kv.Key).ToList();
        foreach (var k in victims) map.Remove(k);
        return victims.Count;
    }

    // ---------------------------------------------------------------- aggregates

    // A series key is looked up as characters in this buffer; a string is made only for a key not yet in the map.
    private readonly char[] _keyBuffer = new char[256];

    private void AddAggregate(long t, string country, string region, string target, string label)
    {
        var st = _st;
        var bucket = FloorDiv(t, AggSec) * AggSec;
        string? key = null;
        AggregateEntry? a;
        if (_keyBuffer.AsSpan().TryWrite(CultureInfo.InvariantCulture, $"{bucket}\u001f{country}\u001f{region}\u001f{target}\u001f{label}", out var length)
            && st.Aggregates.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup))
        {
            if (!lookup.TryGetValue(_keyBuffer.AsSpan(0, length), out a)) key = new string(_keyBuffer, 0, length);
        }
        else
        {
            key = string.Create(CultureInfo.InvariantCulture, $"{bucket}\u001f{country}\u001f{region}\u001f{target}\u001f{label}");
            st.Aggregates.TryGetValue(key, out a);
        }
        if (a is null)
        {
            if (bucket < st.AggClosedBefore && bucket < st.MaxEventSec - (long)_o.AggregateRetention.TotalSeconds)
            {
                st.Stats.TooLatePosts++;
                return;
            }
            a = new AggregateEntry { BucketStart = bucket, Country = country, Region = region, Target = target, Label = label };
            st.Aggregates[key!] = a;
        }
        a.Count++;
        if (bucket < st.AggClosedBefore)
        {
            // A late post into an already closed bucket re-emits it with the corrected total (stores upsert by key).
            st.PendingAggregates.Add(new SeriesPointDto { BucketStart = a.BucketStart, Country = a.Country, Region = a.Region, Target = a.Target, Label = a.Label, Count = a.Count });
            a.Emitted = true;
        }
    }

    private void CloseAggregates(long wm)
    {
        var st = _st;
        // Bucket [b, b + width) closes when the watermark reaches b + width.
        var closedBefore = wm == long.MaxValue ? (FloorDiv(st.MaxEventSec, AggSec) + 1) * AggSec : FloorDiv(wm, AggSec) * AggSec;
        if (closedBefore <= st.AggClosedBefore) return;
        st.AggClosedBefore = closedBefore;
        EmitAggregates(closedBefore);
    }

    private void EmitAggregates(long closedBefore)
    {
        var st = _st;
        var retention = st.MaxEventSec - (long)_o.AggregateRetention.TotalSeconds;
        List<string>? prune = null;
        foreach (var (key, a) in st.Aggregates.OrderBy(kv => kv.Value.BucketStart).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (a.BucketStart >= closedBefore) continue;
            if (!a.Emitted)
            {
                st.PendingAggregates.Add(new SeriesPointDto { BucketStart = a.BucketStart, Country = a.Country, Region = a.Region, Target = a.Target, Label = a.Label, Count = a.Count });
                a.Emitted = true;
            }
            if (a.BucketStart < retention) (prune ??= []).Add(key);
        }
        if (prune is not null) foreach (var k in prune) st.Aggregates.Remove(k);
    }

    // ---------------------------------------------------------------- traffic and volume_drop

    private void AddTraffic(long minute, string country, string region)
    {
        var st = _st;
        if (minute <= st.ClockMinute - MinuteRing.Size + 2) return; // older than the ring: aggregates already hold it
        string? key = null;
        TrafficSeries? s;
        if (_keyBuffer.AsSpan().TryWrite($"{country}\u001f{region}", out var length) && st.Traffic.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup))
        {
            if (!lookup.TryGetValue(_keyBuffer.AsSpan(0, length), out s)) key = new string(_keyBuffer, 0, length);
        }
        else
        {
            key = country + "\u001f" + region;
            st.Traffic.TryGetValue(key, out s);
        }
        if (s is null)
        {
            var newKey = key!; // made above whenever the series was not found
            s = new TrafficSeries { Country = country, Region = region };
            st.Traffic[newKey] = s;
            st.Stats.SeriesEvicted += EvictLru(st.Traffic, _o.MaxSeries, x => x.LastTouched);
            if (!st.Traffic.ContainsKey(newKey)) st.Traffic[newKey] = s;
        }
        s.Ring.Add(minute);
        s.LastTouched = Math.Max(s.LastTouched, minute);
    }

    private void CheckDrops(long clock)
    {
        var st = _st;
        double totalObs = 0, totalExp = 0;
        var rows = new List<(string Key, TrafficSeries S, long Obs, double Exp, int Window)>();
        foreach (var (key, s) in st.Traffic)
        {
            if (s.Baseline.LevelN < _o.DropWarmupMinutes) continue;
            // The expected rate just before the window (a quiet hour is not a shutdown: the smaller of level and season).
            var rate = s.Baseline.LowerExpected(DateTimeOffset.FromUnixTimeSeconds((clock - 1) * 60), _o.MinCellObs);
            if (!s.InDrop)
            {
                // Also no more than the last half hour's own rate before the window: the level lags a falling evening.
                var w0 = (int)Math.Clamp(Math.Ceiling(_o.DropMinExpected / Math.Max(rate, 1e-9)), _o.DropMinWindowMinutes, _o.DropMaxWindowMinutes);
                var recent = s.Ring.Sum(clock - w0 - DropRecentMinutes, clock - w0 - 1) / (double)DropRecentMinutes;
                rate = Math.Min(rate, recent);
            }
            if (rate * _o.DropMaxWindowMinutes < _o.DropMinExpected) { s.InDrop = false; continue; }
            // The shortest window that is expected to hold enough posts for the test to have power.
            var w = (int)Math.Clamp(Math.Ceiling(_o.DropMinExpected / rate), _o.DropMinWindowMinutes, _o.DropMaxWindowMinutes);
            var obs = s.Ring.Sum(clock - w, clock - 1);
            var exp = rate * w;
            totalObs += obs;
            totalExp += exp;
            rows.Add((key, s, obs, exp, w));
        }
        rows.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, s, obs, exp, d) in rows)
        {
            var from = clock - d;
            var dropping = s.Region.Length + s.Country.Length > 0 && obs <= _o.DropMaxRatio * exp;
            double score = 0;
            if (dropping)
            {
                score = Tails.Score(Tails.PoissonLogLower(obs, exp));
                dropping = score >= _o.DropThreshold;
            }
            if (dropping)
            {
                // If every other region went quiet too, the source has a gap; that is not a regional drop.
                double otherObs = totalObs - obs, otherExp = totalExp - exp;
                if (otherExp > 0 && otherObs < 0.5 * otherExp)
                {
                    st.Stats.StreamGapMinutes++;
                    dropping = false;
                }
            }
            s.InDrop = dropping;
            if (!dropping) continue;
            st.Stats.SignalsRaised++;
            var scope = new Scope(NullIfEmpty(s.Country), NullIfEmpty(s.Region));
            var signal = new Signal
            {
                Kind = AlertKinds.VolumeDrop,
                Scope = scope,
                WindowStart = DateTimeOffset.FromUnixTimeSeconds(from * 60),
                WindowEnd = DateTimeOffset.FromUnixTimeSeconds(clock * 60),
                Score = score,
                Baseline = exp,
                Observed = obs,
                Detector = "seasonal_poisson_lower",
            };
            var pct = exp > 0 ? 100 * obs / exp : 0;
            var text = string.Create(CultureInfo.InvariantCulture,
                $"Posts from{Place(s.Region, s.Country)} fell to {obs} in {d} minutes, {pct:0}% of the usual {exp:0}; this may be an internet shutdown or outage and should be checked.");
            _rules.Apply(st, signal, exp >= 100 ? Core.Alerts.Severity.Critical : Core.Alerts.Severity.High, text, DateTimeOffset.FromUnixTimeSeconds(st.MaxEventSec));
        }
    }

    // ---------------------------------------------------------------- hateful volume and volume_spike

    private void ObserveHateful(EvidencePost ev, Post p, string country, string region, string target)
    {
        var st = _st;
        if (ev.Minute <= st.ClockMinute - MinuteRing.Size + 2) return;
        var key = country + "\u001f" + region + "\u001f" + target;
        if (!st.Hate.TryGetValue(key, out var s))
        {
            s = new HateSeries { Country = country, Region = region, Target = target };
            st.Hate[key] = s;
            st.Stats.SeriesEvicted += EvictLru(st.Hate, _o.MaxSeries, x => x.LastTouched);
            if (!st.Hate.ContainsKey(key)) st.Hate[key] = s;
        }
        s.Ring.Add(ev.Minute);
        s.LastTouched = Math.Max(s.LastTouched, ev.Minute);
        var w = _o.SpikeWindowMinutes;
        var clock = st.ClockMinute;
        var from = clock - w + 1;
        s.Recent.RemoveAll(x => x.Minute < from - 1);
        if (s.Recent.Count < MaxRecent)
        {
            var withExcerpt = new EvidencePost
            {
                Id = ev.Id, Account = ev.Account, Followers = ev.Followers, Minute = ev.Minute, Hate = ev.Hate,
                Incite = ev.Incite, Dehum = ev.Dehum, Terms = ev.Terms, Excerpt = Excerpt(p.Text),
            };
            s.Recent.Add(withExcerpt);
        }
        if (st.MaxEventSec - st.FirstEventSec < (long)_o.SpikeWarmup.TotalSeconds) return;

        var obs = s.Ring.Sum(from, clock);
        if (obs < _o.SpikeMinCount) return;
        var time = DateTimeOffset.FromUnixTimeSeconds(clock * 60);
        var perMinute = Math.Max(s.Baseline.UpperExpected(time, _o.MinCellObs), _o.SpikeFloorPerMinute);
        var exp = perMinute * w;
        var score = Tails.Score(Tails.NegBinLogUpper(obs, exp, _o.SpikeDispersion));
        if (score < _o.SpikeThreshold) return;

        s.AlarmUntilMinute = clock + (long)_o.MaxAlertWindow.TotalMinutes;
        st.Stats.SignalsRaised++;
        var inWindow = s.Recent.Where(x => x.Minute >= from).ToList();
        var f = Measure(inWindow);
        var scope = new Scope(NullIfEmpty(country), NullIfEmpty(region), NullIfEmpty(target));
        var signal = new Signal
        {
            Kind = AlertKinds.VolumeSpike,
            Scope = scope,
            WindowStart = DateTimeOffset.FromUnixTimeSeconds(from * 60),
            WindowEnd = DateTimeOffset.FromUnixTimeSeconds((clock + 1) * 60),
            Score = score,
            Baseline = exp,
            Observed = obs,
            Evidence = BuildEvidence(inWindow),
            Reach = f.MaxFollowers,
            IncitementShare = f.IncitementShare,
            Detector = "rolling_negbin",
        };
        var ratio = obs / Math.Max(exp, 0.1);
        var who = target.Length == 0 ? "Hateful posts" : "Hateful posts targeting " + GroupName(target);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{who}{Place(region, country, " in")} rose to {obs} in {w} minutes, {RatioText(ratio)} the usual level; {Rabat.ReviewNote}.");
        _rules.Apply(st, signal, Rabat.Rate(f), text, DateTimeOffset.FromUnixTimeSeconds(st.MaxEventSec));
    }

    // ---------------------------------------------------------------- incitement

    private void ObserveIncitement(EvidencePost ev, Post p, string country, string region, string target)
    {
        var st = _st;
        var key = country + "\u001f" + region + "\u001f" + target;
        if (!st.OrdinaryIncitement.TryGetValue(key, out var ordinary))
        {
            ordinary = [];
            st.OrdinaryIncitement[key] = ordinary;
        }
        ordinary.RemoveAll(x => x.Minute < st.ClockMinute - 60);
        if (p.AuthorFollowers < _o.InfluentialFollowers)
        {
            if (ordinary.Count < MaxRecent) ordinary.Add(ev);
            return;
        }
        st.Stats.SignalsRaised++;
        var evidence = new List<EvidencePost>(ordinary.Count + 1)
        {
            new()
            {
                Id = ev.Id, Account = ev.Account, Followers = ev.Followers, Minute = ev.Minute, Hate = ev.Hate, Incite = true,
                Dehum = ev.Dehum, Terms = ev.Terms, Excerpt = Excerpt(p.Text),
            },
        };
        evidence.AddRange(ordinary);
        var f = Measure(evidence);
        var start = DateTimeOffset.FromUnixTimeSeconds(ev.Minute * 60);
        var signal = new Signal
        {
            Kind = AlertKinds.Incitement,
            Scope = new Scope(NullIfEmpty(country), NullIfEmpty(region), target),
            WindowStart = start,
            WindowEnd = start.AddMinutes(1),
            Score = Math.Round(p.AuthorFollowers > 0 ? Math.Log10(p.AuthorFollowers) : 0, 3),
            Baseline = 0,
            Observed = evidence.Count,
            Evidence = BuildEvidence(evidence),
            Reach = f.MaxFollowers,
            IncitementShare = 1,
            Detector = "incitement_rule",
        };
        // An influential call to violence is at least high; repeated calls by others, dehumanisation or very wide reach make it critical.
        var severity = ordinary.Count >= 3 || ev.Dehum || p.AuthorFollowers >= 100_000 ? Core.Alerts.Severity.Critical : Core.Alerts.Severity.High;
        var more = ordinary.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", after {ordinary.Count} similar posts by other accounts in the last hour");
        var text = string.Create(CultureInfo.InvariantCulture,
            $"An account with {p.AuthorFollowers:N0} followers called for violence against {GroupName(target)}{Place(region, country, " in")}{more}; {Rabat.ReviewNote}.");
        _rules.Apply(st, signal, severity, text, DateTimeOffset.FromUnixTimeSeconds(st.MaxEventSec));
    }

    // ---------------------------------------------------------------- emerging_term

    private void AddKnownTerm(string term)
    {
        var t = term.ToLowerInvariant();
        if (!_st.KnownTerms.Add(t)) return;
        if (t.Contains(' ', StringComparison.Ordinal))
            foreach (var part in t.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (part.Length >= 3) _st.KnownTerms.Add(part);
    }

    private void AddVocabulary(PostEnvelope e, string country, long minute)
    {
        var hashes = e.TokenHashes;
        if (hashes is null && e.Tokens is { } tokens)
        {
            hashes = new ulong[tokens.Length];
            for (var i = 0; i < tokens.Length; i++) hashes[i] = TokenHash.Of(tokens[i]);
        }
        if (hashes is null || hashes.Length == 0) return;
        var st = _st;
        if (!st.Vocabularies.TryGetValue(country, out var v))
        {
            v = new Vocabulary();
            st.Vocabularies[country] = v;
        }
        st.VocabularyPosts++;
        var lookback = _o.TermLookbackHours * 60L;
        foreach (var h in hashes)
        {
            v.Tokens.TryGetValue(h, out var packed);
            var last = Vocabulary.LastMinute(packed);
            // A token unused for the whole lookback starts a new run (it is "absent" again).
            var uses = packed == 0 || last < minute - lookback ? 0 : Vocabulary.Uses(packed);
            v.Tokens[h] = (Math.Max(last, minute) << Vocabulary.UseBits) | Math.Min(uses + 1, Vocabulary.MaxUses);
        }
    }

    /// <summary>Uses of a token in any post of the country in its current run, as of <paramref name="minute"/>.</summary>
    private int PriorUses(string country, ulong hash, long minute)
    {
        if (!_st.Vocabularies.TryGetValue(country, out var v) || !v.Tokens.TryGetValue(hash, out var packed)) return 0;
        return Vocabulary.LastMinute(packed) < minute - _o.TermLookbackHours * 60L ? 0 : Vocabulary.Uses(packed);
    }

    /// <summary>Drops tokens unused for the whole lookback (exact: they would count as absent anyway), then enforces the bound.</summary>
    private void EvictVocabulary(long m)
    {
        var horizon = m - _o.TermLookbackHours * 60L;
        long total = 0;
        foreach (var v in _st.Vocabularies.Values)
        {
            var old = v.Tokens.Where(kv => Vocabulary.LastMinute(kv.Value) < horizon).Select(kv => kv.Key).ToList();
            foreach (var k in old) v.Tokens.Remove(k);
            total += v.Tokens.Count;
        }
        if (total <= _o.MaxVocabulary) return;
        var excess = total - _o.MaxVocabulary + _o.MaxVocabulary / 10;
        var victims = _st.Vocabularies.SelectMany(c => c.Value.Tokens.Select(kv => (Country: c.Key, kv.Key, Last: Vocabulary.LastMinute(kv.Value))))
            .OrderBy(x => x.Last).ThenBy(x => x.Country, StringComparer.Ordinal).ThenBy(x => x.Key).Take((int)Math.Min(excess, int.MaxValue)).ToList();
        foreach (var x in victims) _st.Vocabularies[x.Country].Tokens.Remove(x.Key);
        _st.Stats.VocabularyEvicted += victims.Count;
    }

    private void ObserveTerms(EvidencePost ev, Post p, string country, string target, string lang, string[] tokens)
    {
        var st = _st;
        var clock = Math.Max(st.ClockMinute, ev.Minute);
        var w = _o.TermWindowMinutes;
        var windowStart = clock - w + 1;
        var horizon = windowStart - _o.TermLookbackHours * 60L;
        var warm = st.MaxEventSec - st.FirstEventSec >= (long)_o.TermWarmup.TotalSeconds;
        var haveVocabulary = st.VocabularyPosts > 0;
        foreach (var raw in tokens)
        {
            if (string.IsNullOrEmpty(raw) || raw.Length < _o.TermMinLength || IsNumber(raw)) continue;
            var tok = raw.ToLowerInvariant();
            if (st.KnownTerms.Contains(tok)) continue;
            var key = country + "\u001f" + target + "\u001f" + lang + "\u001f" + tok;
            if (!st.Terms.TryGetValue(key, out var tr))
            {
                tr = new TermTracker { Country = country, Target = target, Lang = lang, Term = tok };
                st.Terms[key] = tr;
                st.Stats.TermsEvicted += EvictLru(st.Terms, _o.MaxTerms, x => x.LastTouched);
                if (!st.Terms.ContainsKey(key)) st.Terms[key] = tr;
            }
            tr.LastTouched = Math.Max(tr.LastTouched, ev.Minute);
            var lastUse = tr.Minutes.Count > 0 ? tr.Minutes[^1] : long.MinValue;
            if (tr.BurstStart == long.MinValue || lastUse < ev.Minute - w)
            {
                // A new burst: how present was the term in ALL posts of the country before it?
                tr.BurstStart = ev.Minute;
                tr.BurstPrior = haveVocabulary ? PriorUses(country, TokenHash.Of(raw), ev.Minute) : 0;
            }
            var drop = 0;
            while (drop < tr.Minutes.Count && tr.Minutes[drop] < horizon) drop++;
            if (drop > 0) { tr.Minutes.RemoveRange(0, drop); tr.Accounts.RemoveRange(0, drop); }
            tr.Minutes.Add(ev.Minute);
            tr.Accounts.Add(ev.Account);
            tr.Evidence.RemoveAll(x => x.Minute < windowStart);
            if (tr.Evidence.Count < 10)
                tr.Evidence.Add(new EvidencePost
                {
                    Id = ev.Id, Account = ev.Account, Followers = ev.Followers, Minute = ev.Minute, Hate = ev.Hate,
                    Incite = ev.Incite, Dehum = ev.Dehum, Terms = [tok], Excerpt = tr.Evidence.Count < 3 ? Excerpt(p.Text) : null,
                });
            var inWindow = 0;
            for (var i = tr.Minutes.Count - 1; i >= 0 && tr.Minutes[i] >= windowStart; i--) inWindow++;
            if (!warm || inWindow < _o.TermMinUses) continue;
            // Novel only against a vocabulary that had the whole warm-up to fill, and only while the burst is young.
            if (tr.BurstStart * 60 < st.FirstEventSec + (long)_o.TermWarmup.TotalSeconds || tr.BurstStart < clock - (long)_o.TermMaxBurstAge.TotalMinutes) continue;
            // Without a vocabulary (no token hashes from the text stage) novelty falls back to flagged posts alone.
            var prior = haveVocabulary ? tr.BurstPrior : tr.Minutes.Count - inWindow;
            if (prior > _o.TermMaxPriorUses) continue;
            var accounts = new HashSet<string>(StringComparer.Ordinal);
            var minutes = new HashSet<long>();
            for (var i = tr.Minutes.Count - inWindow; i < tr.Minutes.Count; i++)
            {
                accounts.Add(tr.Accounts[i]);
                minutes.Add(tr.Minutes[i]);
            }
            if (accounts.Count < _o.TermMinAccounts || minutes.Count < _o.TermMinMinutes) continue;

            st.Stats.SignalsRaised++;
            var expected = Math.Max(0.5, prior * (double)_o.TermWindowMinutes / (_o.TermLookbackHours * 60.0));
            var score = Tails.Score(Tails.PoissonLogUpper(inWindow, expected));
            var f = Measure(tr.Evidence) with { Accounts = accounts.Count, Posts = inWindow };
            // The alert window is the recent part of the burst, so that a burst seen late still fits one 30-minute alert.
            var first = tr.Minutes[tr.Minutes.Count - inWindow];
            var signal = new Signal
            {
                Kind = AlertKinds.EmergingTerm,
                Scope = new Scope(NullIfEmpty(country), null, NullIfEmpty(target), NullIfEmpty(lang), tok),
                WindowStart = DateTimeOffset.FromUnixTimeSeconds(first * 60),
                WindowEnd = DateTimeOffset.FromUnixTimeSeconds((clock + 1) * 60),
                Score = score,
                Baseline = expected,
                Observed = inWindow,
                Evidence = BuildEvidence(tr.Evidence, [.. accounts]),
                Reach = f.MaxFollowers,
                IncitementShare = f.IncitementShare,
                Detector = "term_burst",
            };
            var about = target.Length == 0 ? "" : " about " + GroupName(target);
            var langText = lang.Length == 0 ? "" : " (language " + lang + ")";
            var text = string.Create(CultureInfo.InvariantCulture,
                $"A term that is not in the lexicon (see scope) appeared in {inWindow} flagged posts by {accounts.Count} accounts in {w} minutes{about}{Place(null, country, " in")}{langText}, after being almost absent; a language expert should review it.");
            var severity = Rabat.Rate(f) switch { Core.Alerts.Severity.Critical => Core.Alerts.Severity.High, var x => x };
            _rules.Apply(st, signal, severity, text, DateTimeOffset.FromUnixTimeSeconds(st.MaxEventSec));
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Rabat.Factors Measure(List<EvidencePost> posts)
    {
        if (posts.Count == 0) return new Rabat.Factors(0, 0, 0, 0, 0, 0);
        int hate = 0, dehum = 0, incite = 0, maxF = 0;
        var accounts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var x in posts)
        {
            if (x.Hate) hate++;
            if (x.Dehum) dehum++;
            if (x.Incite) incite++;
            if (x.Followers > maxF) maxF = x.Followers;
            accounts.Add(x.Account);
        }
        double n = posts.Count;
        return new Rabat.Factors(hate / n, dehum / n, incite / n, maxF, accounts.Count, n);
    }

    private static Evidence BuildEvidence(List<EvidencePost> posts, List<string>? accounts = null)
    {
        var ev = new Evidence();
        foreach (var x in posts)
        {
            if (ev.PostIds.Count < 10 && !ev.PostIds.Contains(x.Id)) ev.PostIds.Add(x.Id);
            if (accounts is null && ev.Accounts.Count < 20 && !ev.Accounts.Contains(x.Account)) ev.Accounts.Add(x.Account);
            if (x.Excerpt is not null && ev.Excerpts.Count < 3) ev.Excerpts.Add(x.Excerpt);
        }
        if (accounts is not null) ev.Accounts.AddRange(accounts.Order(StringComparer.Ordinal).Take(20));
        ev.TopTerms.AddRange(posts.SelectMany(x => x.Terms).GroupBy(x => x, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(10).Select(g => g.Key));
        return ev;
    }

    /// <summary>At most 140 characters of the post, cut on a character boundary.</summary>
    internal static string Excerpt(string text)
    {
        var t = text.ReplaceLineEndings(" ").Trim();
        if (t.Length <= ExcerptLength) return t;
        var cut = ExcerptLength - 1;
        if (char.IsHighSurrogate(t[cut - 1])) cut--;
        return string.Concat(t.AsSpan(0, cut), "…");
    }

    private static string RatioText(double ratio) =>
        ratio >= 2 ? string.Create(CultureInfo.InvariantCulture, $"{ratio:0} times") : string.Create(CultureInfo.InvariantCulture, $"{ratio:0.0} times");

    private static string Place(string? region, string? country, string prep = "")
    {
        var r = string.IsNullOrEmpty(region) ? null : region;
        var c = string.IsNullOrEmpty(country) ? null : country;
        if (r is null && c is null) return "";
        var where = r is not null && c is not null ? r + ", " + c : r ?? c!;
        return (prep.Length == 0 ? " " : prep + " ") + where;
    }

    /// <summary>A target-group id as words a field worker reads (<c>election_officials</c> → "election officials").</summary>
    internal static string GroupName(string id) => id switch
    {
        "lgbtq" => "LGBTQ people",
        "black_people" => "Black people",
        "women" or "journalists" or "election_officials" or "immigrants" or "disabled_people" => id.Replace('_', ' '),
        _ => id.Length == 0 ? id : char.ToUpperInvariant(id[0]) + id[1..].Replace('_', ' '),
    };

    private static bool IsNumber(string s)
    {
        foreach (var ch in s) if (!char.IsDigit(ch)) return false;
        return true;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
