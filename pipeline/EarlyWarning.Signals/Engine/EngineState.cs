using EarlyWarning.Core.Alerts;
using EarlyWarning.Signals.Detection;

namespace EarlyWarning.Signals.Engine;

// The engine's whole state, as plain public-field classes so that a checkpoint is one JSON document.

/// <summary>Per-minute counts of the last 64 minutes (enough for every rolling window here).</summary>
internal sealed class MinuteRing
{
    public const int Size = 64;
    public long[] Minute = Enumerable.Repeat(long.MinValue, Size).ToArray();
    public int[] Count = new int[Size];

    public void Add(long minute, int n = 1)
    {
        var slot = (int)(((minute % Size) + Size) % Size);
        if (Minute[slot] != minute) { Minute[slot] = minute; Count[slot] = 0; }
        Count[slot] += n;
    }

    public int Get(long minute)
    {
        var slot = (int)(((minute % Size) + Size) % Size);
        return Minute[slot] == minute ? Count[slot] : 0;
    }

    public long Sum(long fromMinute, long toMinuteInclusive)
    {
        long s = 0;
        for (var m = fromMinute; m <= toMinuteInclusive; m++) s += Get(m);
        return s;
    }
}

/// <summary>A post kept as possible evidence.</summary>
internal sealed class EvidencePost
{
    public string Id = "";
    public string Account = "";
    public int Followers;
    public long Minute;
    public bool Hate;
    public bool Incite;
    public bool Dehum;
    public string? Excerpt;
    public List<string> Terms = [];
}

/// <summary>Hateful volume of one (country, region, target group).</summary>
internal sealed class HateSeries
{
    public string Country = "";
    public string Region = "";
    public string Target = "";
    public SeasonalBaseline Baseline = new();
    public MinuteRing Ring = new();
    public List<EvidencePost> Recent = [];
    public long LastTouched;
    public long AlarmUntilMinute = long.MinValue;
    public long FrozenMinutes;
}

/// <summary>All traffic of one (country, region).</summary>
internal sealed class TrafficSeries
{
    public string Country = "";
    public string Region = "";
    public SeasonalBaseline Baseline = new();
    public MinuteRing Ring = new();
    public long LastTouched;
    public bool InDrop;
    public long FrozenMinutes;
}

/// <summary>Uses of one token among flagged posts in one (country, target group, language).</summary>
internal sealed class TermTracker
{
    public string Country = "";
    public string Target = "";
    public string Lang = "";
    public string Term = "";
    public List<long> Minutes = [];
    public List<string> Accounts = [];
    public List<EvidencePost> Evidence = [];
    public long LastTouched;
    /// <summary>Minute of the first flagged use of the current burst (after a gap of a whole window).</summary>
    public long BurstStart = long.MinValue;
    /// <summary>Uses of the term in any post of the country during the lookback before <see cref="BurstStart"/>.</summary>
    public int BurstPrior;
}

/// <summary>
/// The all-post vocabulary of one country: token hash → (last minute used &lt;&lt; 20 | uses in the current run), where a
/// run is a sequence of uses without a gap longer than the lookback. Packed in one long so that it stays small and
/// checkpoints as plain JSON.
/// </summary>
internal sealed class Vocabulary
{
    public const int UseBits = 20;
    public const long MaxUses = (1L << UseBits) - 1;
    public Dictionary<ulong, long> Tokens = [];

    public static long LastMinute(long packed) => packed >> UseBits;

    public static int Uses(long packed) => (int)(packed & MaxUses);
}

/// <summary>A 5-minute dashboard aggregate.</summary>
internal sealed class AggregateEntry
{
    public long BucketStart;
    public string Country = "";
    public string Region = "";
    public string Target = "";
    public string Label = "";
    public long Count;
    public bool Emitted;
}

/// <summary>Counters the engine reports (nothing is dropped silently).</summary>
public sealed class SignalEngineStats
{
    public long PostsObserved { get; set; }
    /// <summary>Posts whose minute had already closed when they arrived: counted in aggregates (bucket re-emitted) but not learnt.</summary>
    public long LatePosts { get; set; }
    /// <summary>Posts older than the aggregate retention: not in any aggregate; counted here.</summary>
    public long TooLatePosts { get; set; }
    /// <summary>Posts without a decision: aggregated under label <c>none</c> and counted here.</summary>
    public long Unclassified { get; set; }
    public long SeriesEvicted { get; set; }
    public long TermsEvicted { get; set; }
    /// <summary>Token hashes dropped from the all-post vocabulary at its bound (such a token may look new again).</summary>
    public long VocabularyEvicted { get; set; }
    /// <summary>Flagged reposts not counted as uses of their terms (a repost repeats, it does not adopt a word).</summary>
    public long RepostsSkippedForTerms { get; set; }
    public long SignalsRaised { get; set; }
    public long AlertsOpened { get; set; }
    /// <summary>Minutes in which every region fell silent together: a gap in the source, not a regional drop.</summary>
    public long StreamGapMinutes { get; set; }
}

/// <summary>The checkpointed state of a <see cref="SignalEngine"/>.</summary>
internal sealed class EngineState
{
    public int Version = 1;
    public bool Started;
    public long FirstEventSec;
    public long MaxEventSec;
    public long ClosedMinute;
    public long ClockMinute;
    public long AggClosedBefore;
    public bool Flushed;
    public Dictionary<string, HateSeries> Hate = new(StringComparer.Ordinal);
    public Dictionary<string, TrafficSeries> Traffic = new(StringComparer.Ordinal);
    public Dictionary<string, TermTracker> Terms = new(StringComparer.Ordinal);
    public HashSet<string> KnownTerms = new(StringComparer.Ordinal);
    public Dictionary<string, Vocabulary> Vocabularies = new(StringComparer.Ordinal);
    public long VocabularyPosts;
    public Dictionary<string, AggregateEntry> Aggregates = new(StringComparer.Ordinal);
    public Dictionary<string, List<EvidencePost>> OrdinaryIncitement = new(StringComparer.Ordinal);
    public Dictionary<string, Alert> Open = new(StringComparer.Ordinal);
    public Dictionary<string, Alert> Closed = new(StringComparer.Ordinal);
    public List<string> Pending = [];
    public List<SeriesPointDto> PendingAggregates = [];
    public SignalEngineStats Stats = new();
}

/// <summary>A SeriesPoint waiting for Drain (a plain class so that it checkpoints).</summary>
internal sealed class SeriesPointDto
{
    public long BucketStart;
    public string Country = "";
    public string Region = "";
    public string Target = "";
    public string Label = "";
    public long Count;
}
