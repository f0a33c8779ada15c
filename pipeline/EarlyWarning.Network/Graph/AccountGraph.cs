using System.Runtime.CompilerServices;
using EarlyWarning.Network.Internal;
using QuikGraph;

namespace EarlyWarning.Network.Graph;

/// <summary>
/// The streaming account graph on QuikGraph: one aggregated edge per (source, target, kind), with event-time
/// eviction of edges and accounts idle for longer than the window, and hard bounds on vertex and edge counts
/// (least recently seen evicted first), so memory stays bounded on an unbounded stream.
/// </summary>
public sealed class AccountGraph
{
    private readonly BidirectionalGraph<string, AccountEdge> _graph = new(allowParallelEdges: true);
    private readonly Dictionary<EdgeKey, AccountEdge> _edges = [];
    private readonly Dictionary<string, AccountStats> _accounts = new(StringComparer.Ordinal);
    // Lazy-deletion queues: an entry is live only when its time still equals the item's last-seen time.
    private readonly Queue<(long Time, AccountEdge Edge)> _edgeQueue = new();
    private readonly Queue<(long Time, string Account)> _vertexQueue = new();
    private readonly long _windowMs;
    private readonly int _maxVertices;
    private readonly int _maxEdges;
    private long _seq;

    public AccountGraph(TimeSpan window, int maxVertices, int maxEdges)
    {
        _windowMs = (long)window.TotalMilliseconds;
        _maxVertices = maxVertices;
        _maxEdges = maxEdges;
    }

    /// <summary>The QuikGraph graph itself (read-only use: algorithms, baselines).</summary>
    public IBidirectionalGraph<string, AccountEdge> Graph => _graph;

    public int VertexCount => _graph.VertexCount;
    public int EdgeCount => _graph.EdgeCount;
    public long EvictedVertices { get; private set; }
    public long EvictedEdges { get; private set; }
    internal long SlotMs => Math.Max(1, _windowMs / 12);
    internal long WindowMs => _windowMs;

    public bool TryGetAccount(string account, out AccountStats stats) => _accounts.TryGetValue(account, out stats!);

    internal IEnumerable<AccountStats> Accounts => _accounts.Values;

    /// <summary>The live edges (the graph's own edge index, no copy).</summary>
    internal Dictionary<EdgeKey, AccountEdge>.ValueCollection LiveEdges => _edges.Values;

    /// <summary>
    /// The edge index's key: the endpoints' account records, by identity, and the kind. An account has one record
    /// while it is in the window and its edges leave with it, so the records stand for the ids. At the edge bound every
    /// new edge costs a lookup and an eviction; hashing two object identities is cheaper than hashing two id strings
    /// (randomised string hashing).
    /// </summary>
    internal readonly struct EdgeKey(AccountStats source, AccountStats target, EdgeKind kind) : IEquatable<EdgeKey>
    {
        private readonly AccountStats _source = source;
        private readonly AccountStats _target = target;
        private readonly EdgeKind _kind = kind;

        public bool Equals(EdgeKey other) => ReferenceEquals(_source, other._source) && ReferenceEquals(_target, other._target) && _kind == other._kind;
        public override bool Equals(object? obj) => obj is EdgeKey k && Equals(k);
        public override int GetHashCode() => HashCode.Combine(RuntimeHelpers.GetHashCode(_source), RuntimeHelpers.GetHashCode(_target), (byte)_kind);
    }

    private static EdgeKey KeyOf(AccountEdge e) => new(e.SourceStats, e.TargetStats, e.Kind);

    /// <summary>Marks an account active at <paramref name="timeMs"/>, adding it when new.</summary>
    internal AccountStats Touch(string account, long timeMs) => Touch(account, timeMs, enforce: true);

    private AccountStats Touch(string account, long timeMs, bool enforce)
    {
        if (!_accounts.TryGetValue(account, out var a))
        {
            a = new AccountStats(account, timeMs);
            _accounts.Add(account, a);
            _graph.AddVertex(account);
            _vertexQueue.Enqueue((timeMs, account));
            if (enforce) EnforceBounds(timeMs);
            return a;
        }
        if (timeMs > a.LastActiveMs)
        {
            a.LastActiveMs = timeMs;
            _vertexQueue.Enqueue((timeMs, a.Account));
        }
        return a;
    }

    /// <summary>Adds <paramref name="weight"/> to the edge (created when new); co-share edges are stored with source &lt; target.</summary>
    internal AccountEdge AddInteraction(string source, string target, EdgeKind kind, long timeMs, double weight = 1)
    {
        if (kind == EdgeKind.CoShare && string.CompareOrdinal(source, target) > 0) (source, target) = (target, source);
        var sa = Touch(source, timeMs, enforce: false);
        var ta = Touch(target, timeMs, enforce: false);
        // The account records' own id strings: each post brings its own copies of the same ids, and an edge that
        // kept those would keep one string per post alive for the whole window.
        source = sa.Account;
        target = ta.Account;
        var key = new EdgeKey(sa, ta, kind);
        if (!_edges.TryGetValue(key, out var e))
        {
            e = new AccountEdge(source, target, kind, timeMs, _seq++) { SourceStats = sa, TargetStats = ta };
            _edges.Add(key, e);
            _graph.AddEdge(e);
            _edgeQueue.Enqueue((timeMs, e));
        }
        else if (timeMs > e.LastSeenMs)
        {
            e.LastSeenMs = timeMs;
            _edgeQueue.Enqueue((timeMs, e));
        }
        e.Weight += weight;
        EnforceBounds(timeMs);
        return e;
    }

    /// <summary>Evicts everything idle since before <paramref name="nowMs"/> minus the window, then enforces the bounds.</summary>
    internal void Expire(long nowMs)
    {
        var cutoff = nowMs - _windowMs;
        while (_edgeQueue.Count > 0 && _edgeQueue.Peek().Time < cutoff) PopEdge();
        while (_vertexQueue.Count > 0 && _vertexQueue.Peek().Time < cutoff) PopVertex();
        EnforceBounds(nowMs);
    }

    private void EnforceBounds(long nowMs)
    {
        while (_graph.EdgeCount > _maxEdges && _edgeQueue.Count > 0) PopEdge();
        while (_graph.VertexCount > _maxVertices && _vertexQueue.Count > 0) PopVertex();
        // Stale queue entries accumulate with repeated touches; rebuild a queue when they dominate it. Each queue is
        // compacted on its own: the vertex queue fills far faster than the edge queue and must not drag it along.
        if (_edgeQueue.Count > (2 * _graph.EdgeCount) + 1024) CompactEdges();
        if (_vertexQueue.Count > (2 * _graph.VertexCount) + 1024) CompactVertices();
        _ = nowMs;
    }

    private void PopEdge()
    {
        var (time, e) = _edgeQueue.Dequeue();
        if (e.Removed || e.LastSeenMs != time) return;
        RemoveEdge(e);
    }

    private void RemoveEdge(AccountEdge e)
    {
        e.Removed = true;
        _edges.Remove(KeyOf(e));
        _graph.RemoveEdge(e);
        EvictedEdges++;
    }

    private void PopVertex()
    {
        var (time, account) = _vertexQueue.Dequeue();
        if (!_accounts.TryGetValue(account, out var a) || a.LastActiveMs != time) return;
        // Its edges were last seen no later than the account itself, so they leave with it.
        var incident = _graph.OutEdges(account).Concat(_graph.InEdges(account)).ToList();
        foreach (var e in incident)
        {
            if (e.Removed) continue;
            e.Removed = true;
            _edges.Remove(KeyOf(e));
            EvictedEdges++;
        }
        _graph.RemoveVertex(account);
        _accounts.Remove(account);
        EvictedVertices++;
    }

    /// <summary>Rebuilds the edge queue from the live edges, by last-seen time then creation order.</summary>
    private void CompactEdges()
    {
        var live = new AccountEdge[_edges.Count];
        var keys = new (long, long)[live.Length];
        var i = 0;
        foreach (var e in _edges.Values)
        {
            live[i] = e;
            keys[i++] = (e.LastSeenMs, e.Seq);
        }
        Array.Sort(keys, live);
        _edgeQueue.Clear();
        foreach (var e in live) _edgeQueue.Enqueue((e.LastSeenMs, e));
    }

    /// <summary>Rebuilds the vertex queue from the live accounts, by last-active time then account id (ordinal).</summary>
    private void CompactVertices()
    {
        // Sorted as value keys (the time inline, the id read on ties only) rather than records through a comparison
        // delegate that read both records' fields for every comparison; the same order. Pooled: compaction is frequent.
        var n = _accounts.Count;
        var keysArray = WindowArrayPool<AccountKey>.Shared.Rent(n);
        try
        {
            var keys = keysArray.AsSpan(0, n);
            var i = 0;
            foreach (var a in _accounts.Values) keys[i++] = new AccountKey(a.LastActiveMs, a.Account);
            keys.Sort();
            _vertexQueue.Clear();
            foreach (var k in keys) _vertexQueue.Enqueue((k.LastActiveMs, k.Account));
        }
        finally
        {
            WindowArrayPool<AccountKey>.Shared.Return(keysArray, clearArray: true);
        }
    }

    /// <summary>Entries in the eviction queues; stale entries are compacted away, so this stays within about twice the bounds.</summary>
    public int EvictionQueueLength => _edgeQueue.Count + _vertexQueue.Count;

    /// <summary>
    /// Accounts are encoded at capture time (sorted by last activity, then id); edges are copied as values with their
    /// accounts' positions in that list, and sorted by (last seen, sequence) and encoded later.
    /// </summary>
    internal void Capture(StateCapture c)
    {
        // Array sorts on value keys: the same order as LINQ's OrderBy/ThenBy at a fraction of the cost. Pooled: the
        // arrays are large objects, and one allocated here could start a full collection while the analysis waits.
        var n = _accounts.Count;
        var accArray = WindowArrayPool<AccountStats>.Shared.Rent(n);
        var keyArray = WindowArrayPool<AccountKey>.Shared.Rent(n);
        try
        {
            var acc = accArray.AsSpan(0, n);
            var accKeys = keyArray.AsSpan(0, n);
            _accounts.Values.CopyTo(accArray, 0);
            for (var i = 0; i < n; i++) accKeys[i] = new AccountKey(acc[i].LastActiveMs, acc[i].Account);
            accKeys.Sort(acc);
            var w = c.Now;
            w.Write(n);
            for (var i = 0; i < n; i++)
            {
                acc[i].SavePosition = i;
                acc[i].Write(w);
            }
        }
        finally
        {
            WindowArrayPool<AccountStats>.Shared.Return(accArray, clearArray: true);
            WindowArrayPool<AccountKey>.Shared.Return(keyArray, clearArray: true);
        }
        // Up to a million edges (48 MB): a pooled array, so a checkpoint does not allocate (and page in) a fresh
        // large object each time, which cost a collection in the middle of the capture. Returned once written.
        var count = _edges.Count;
        var edges = WindowArrayPool<EdgeCopy>.Shared.Rent(count);
        var k = 0;
        foreach (var e in _edges.Values)
            edges[k++] = new EdgeCopy(e.LastSeenMs, e.Seq, e.SourceStats.SavePosition, e.TargetStats.SavePosition, e.Kind, e.Weight, e.FirstSeenMs);
        var evictedVertices = EvictedVertices;
        var evictedEdges = EvictedEdges;
        c.Later(w2 =>
        {
            try { WriteEdges(w2, edges.AsSpan(0, count), evictedVertices, evictedEdges); }
            finally { WindowArrayPool<EdgeCopy>.Shared.Return(edges); }
        });
    }

    private static void WriteEdges(BinaryWriter w, Span<EdgeCopy> edges, long evictedVertices, long evictedEdges)
    {
        // Seq is unique, so the order is total and any sort gives the same one.
        edges.Sort();
        w.Write(edges.Length);
        foreach (ref readonly var e in edges)
        {
            // Endpoints by their position in the account list (an edge's accounts are always in the graph): a dense
            // window has ten edges per account, and their two account ids were most of the saved state.
            w.Write7BitEncodedInt(e.Source);
            w.Write7BitEncodedInt(e.Target);
            w.Write((byte)e.Kind);
            w.Write(e.Weight);
            w.Write(e.FirstSeenMs);
            w.Write(e.LastSeenMs);
        }
        w.Write(evictedVertices);
        w.Write(evictedEdges);
    }

    private readonly record struct EdgeCopy(long LastSeenMs, long Seq, int Source, int Target, EdgeKind Kind, double Weight, long FirstSeenMs)
        : IComparable<EdgeCopy>
    {
        public int CompareTo(EdgeCopy other)
        {
            var c = LastSeenMs.CompareTo(other.LastSeenMs);
            return c != 0 ? c : Seq.CompareTo(other.Seq);
        }
    }

    private readonly record struct AccountKey(long LastActiveMs, string Account) : IComparable<AccountKey>
    {
        public int CompareTo(AccountKey other)
        {
            var c = LastActiveMs.CompareTo(other.LastActiveMs);
            return c != 0 ? c : string.CompareOrdinal(Account, other.Account);
        }
    }

    /// <summary>Reads what <see cref="Capture"/> wrote; <paramref name="edgeIds"/> for states before version 4, whose edges named their accounts.</summary>
    internal void Read(BinaryReader r, bool edgeIds)
    {
        var n = r.ReadInt32();
        if (n < 0) throw new InvalidDataException("network state: bad account count");
        var names = new List<string>(Math.Min(n, 1 << 20));
        for (var i = 0; i < n; i++)
        {
            var a = AccountStats.Read(r);
            names.Add(a.Account);
            _accounts[a.Account] = a;
            _graph.AddVertex(a.Account);
            _vertexQueue.Enqueue((a.LastActiveMs, a.Account));
        }
        var m = r.ReadInt32();
        for (var i = 0; i < m; i++)
        {
            string s, t;
            if (edgeIds)
            {
                s = r.ReadString();
                t = r.ReadString();
            }
            else
            {
                int si = r.Read7BitEncodedInt(), ti = r.Read7BitEncodedInt();
                if ((uint)si >= (uint)names.Count || (uint)ti >= (uint)names.Count)
                    throw new InvalidDataException("network state: edge refers to an unknown account");
                (s, t) = (names[si], names[ti]);
            }
            var kind = (EdgeKind)r.ReadByte();
            var weight = r.ReadDouble();
            var first = r.ReadInt64();
            var last = r.ReadInt64();
            if (!_accounts.TryGetValue(s, out var sa) || !_accounts.TryGetValue(t, out var ta) || kind > EdgeKind.CoShare)
                throw new InvalidDataException("network state: edge refers to an unknown account or kind");
            var e = new AccountEdge(s, t, kind, first, _seq++) { LastSeenMs = last, Weight = weight, SourceStats = sa, TargetStats = ta };
            _edges[new EdgeKey(sa, ta, kind)] = e;
            _graph.AddEdge(e);
            _edgeQueue.Enqueue((last, e));
        }
        EvictedVertices = r.ReadInt64();
        EvictedEdges = r.ReadInt64();
    }
}
