using System.Runtime.CompilerServices;
using QuikGraph;

namespace EarlyWarning.Network.Graph;

/// <summary>Type of interaction an edge stands for.</summary>
public enum EdgeKind : byte
{
    /// <summary>Source replied to a post by target.</summary>
    Reply = 0,
    /// <summary>Source mentioned target.</summary>
    Mention = 1,
    /// <summary>Source reposted a post by target.</summary>
    Repost = 2,
    /// <summary>Source quoted a post by target.</summary>
    Quote = 3,
    /// <summary>Both shared the same URL, media or near-duplicate text within the co-share interval (undirected; source &lt; target).</summary>
    CoShare = 4,
}

/// <summary>
/// An aggregated, time-stamped interaction edge of the account graph (one per source, target and kind), as read out of
/// the graph: a copy, made for views, exports and the QuikGraph graph <see cref="AccountGraph.Graph"/>. The graph itself
/// keeps its edges as values (see <see cref="AccountGraph"/>).
/// </summary>
public sealed class AccountEdge : IEdge<string>
{
    internal AccountEdge(string source, string target, EdgeKind kind, double weight, long firstSeenMs, long lastSeenMs)
    {
        Source = source;
        Target = target;
        Kind = kind;
        Weight = weight;
        FirstSeenMs = firstSeenMs;
        LastSeenMs = lastSeenMs;
    }

    public string Source { get; }
    public string Target { get; }
    public EdgeKind Kind { get; }
    /// <summary>Interactions aggregated into this edge since it entered the window.</summary>
    public double Weight { get; }
    internal long FirstSeenMs { get; }
    internal long LastSeenMs { get; }

    public DateTimeOffset FirstSeen => DateTimeOffset.FromUnixTimeMilliseconds(FirstSeenMs);
    public DateTimeOffset LastSeen => DateTimeOffset.FromUnixTimeMilliseconds(LastSeenMs);

    public static string KindName(EdgeKind kind) => kind switch
    {
        EdgeKind.Reply => "reply",
        EdgeKind.Mention => "mention",
        EdgeKind.Repost => "repost",
        EdgeKind.Quote => "quote",
        _ => "coshare",
    };
}

/// <summary>
/// One edge as the graph keeps it: a value in a slot of one array (no object per edge for the collector to mark), its
/// endpoints by account number, and its place in both endpoints' edge lists (doubly linked through the slots).
/// </summary>
internal struct EdgeSlot
{
    /// <summary>Creation number, unique per edge; -1 while the slot is free.</summary>
    public long Seq;
    public long FirstSeenMs;
    public long LastSeenMs;
    public double Weight;
    public int Source;
    public int Target;
    /// <summary>Next and previous edge of the source's out-list (or the next free slot while free); -1 = none.</summary>
    public int NextOut;
    public int PrevOut;
    /// <summary>Next and previous edge of the target's in-list; -1 = none.</summary>
    public int NextIn;
    public int PrevIn;
    public EdgeKind Kind;

    public readonly bool Live => Seq >= 0;
}

/// <summary>What the graph knows about one account within the window.</summary>
public sealed class AccountStats
{
    private const int Slots = 12;
    // Inline in the record rather than three arrays: one object per account instead of four, which the collector
    // marks on every full collection while the account is in the window.
    private SlotValues<long> _slotStamp;
    private SlotValues<int> _slotPosts;
    private SlotValues<int> _slotFlagged;
    private Dictionary<string, int>? _hashtags;

    /// <summary>This account's position in the account list of the state being written (set by <see cref="AccountGraph"/>'s Write).</summary>
    internal int SavePosition { get; set; }

    /// <summary>The account's number in its graph while it is in the window (edges name their endpoints by it; reused after eviction).</summary>
    internal int Id { get; set; }

    internal AccountStats(string account, long firstSeenMs)
    {
        Account = account;
        FirstSeenMs = firstSeenMs;
        LastActiveMs = firstSeenMs;
        ((Span<long>)_slotStamp).Fill(long.MinValue);
    }

    public string Account { get; }
    public int Followers { get; internal set; }
    public string? Country { get; internal set; }
    public string? Region { get; internal set; }
    internal long FirstSeenMs { get; set; }
    internal long LastActiveMs { get; set; }
    public DateTimeOffset LastActive => DateTimeOffset.FromUnixTimeMilliseconds(LastActiveMs);
    // Scratch of the snapshot in progress: the account's vertex number, valid while SnapshotEpoch is that snapshot's.
    internal int SnapshotIndex { get; set; }
    internal long SnapshotEpoch { get; set; }

    /// <summary>Records one post in the time slot it falls in (the window is split into 12 slots).</summary>
    internal void AddPost(long timeMs, long slotMs, bool flagged, IReadOnlyList<string> hashtags)
    {
        var stamp = timeMs / slotMs;
        var i = (int)(((stamp % Slots) + Slots) % Slots);
        if (_slotStamp[i] != stamp)
        {
            if (stamp < _slotStamp[i]) return; // older than the window: counted nowhere, reported by the caller as late
            _slotStamp[i] = stamp;
            _slotPosts[i] = 0;
            _slotFlagged[i] = 0;
        }
        _slotPosts[i]++;
        if (flagged) _slotFlagged[i]++;
        for (var k = 0; k < hashtags.Count; k++)
        {
            var h = hashtags[k];
            _hashtags ??= new Dictionary<string, int>(StringComparer.Ordinal);
            if (_hashtags.TryGetValue(h, out var c)) _hashtags[h] = c + 1;
            else if (_hashtags.Count < 16) _hashtags[h] = 1;
        }
    }

    /// <summary>Posts and flagged posts in the slots covering the window ending at <paramref name="asOfMs"/>.</summary>
    internal (int Posts, int Flagged) Counts(long asOfMs, long slotMs)
    {
        var now = asOfMs / slotMs;
        int p = 0, f = 0;
        for (var i = 0; i < Slots; i++)
        {
            if (_slotStamp[i] > now - Slots && _slotStamp[i] <= now)
            {
                p += _slotPosts[i];
                f += _slotFlagged[i];
            }
        }
        return (p, f);
    }

    internal IEnumerable<KeyValuePair<string, int>> Hashtags => _hashtags ?? (IEnumerable<KeyValuePair<string, int>>)[];

    internal void Write(BinaryWriter w)
    {
        w.Write(Account);
        w.Write(Followers);
        w.Write(Country ?? "");
        w.Write(Region ?? "");
        w.Write(FirstSeenMs);
        w.Write(LastActiveMs);
        for (var i = 0; i < Slots; i++)
        {
            w.Write(_slotStamp[i]);
            w.Write(_slotPosts[i]);
            w.Write(_slotFlagged[i]);
        }
        var tags = _hashtags?.ToList() ?? [];
        w.Write(tags.Count);
        foreach (var (k, v) in tags)
        {
            w.Write(k);
            w.Write(v);
        }
    }

    internal static AccountStats Read(BinaryReader r)
    {
        var a = new AccountStats(r.ReadString(), 0) { Followers = r.ReadInt32() };
        var c = r.ReadString();
        var g = r.ReadString();
        a.Country = c.Length == 0 ? null : c;
        a.Region = g.Length == 0 ? null : g;
        a.FirstSeenMs = r.ReadInt64();
        a.LastActiveMs = r.ReadInt64();
        for (var i = 0; i < Slots; i++)
        {
            a._slotStamp[i] = r.ReadInt64();
            a._slotPosts[i] = r.ReadInt32();
            a._slotFlagged[i] = r.ReadInt32();
        }
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++)
        {
            a._hashtags ??= new Dictionary<string, int>(StringComparer.Ordinal);
            a._hashtags[r.ReadString()] = r.ReadInt32();
        }
        return a;
    }
}

/// <summary>Twelve values stored inline (one per time slot of <see cref="AccountStats"/>).</summary>
[InlineArray(12)]
internal struct SlotValues<T>
{
    private T _first;
}
