using System.Runtime.InteropServices;
using EarlyWarning.Network.Internal;
using QuikGraph;

namespace EarlyWarning.Network.Graph;

/// <summary>
/// The streaming account graph: one aggregated edge per (source, target, kind), with event-time eviction of edges and
/// accounts idle for longer than the window, and hard bounds on vertex and edge counts (least recently seen evicted
/// first), so memory stays bounded on an unbounded stream.
/// </summary>
/// <remarks>
/// Edges are values in one slot array, named by account numbers and linked into their endpoints' out- and in-lists
/// through the slots; the edge index maps a packed (source, target, kind) number to a slot. A million edges are then
/// a few pointer-free arrays instead of a million edge objects, two million adjacency-list entries and an index of
/// object keys, all of which the collector had to mark on every full collection; removing an edge unlinks it in
/// constant time instead of searching a hub's adjacency list. <see cref="Graph"/> gives the same graph as a QuikGraph
/// graph (a copy) for algorithms and baselines.
/// </remarks>
public sealed class AccountGraph
{
    private const int None = -1;
    // Account numbers are packed into 29 bits of an edge key.
    private const int MaxAccountId = (1 << 29) - 1;
    private readonly Dictionary<EdgeKey, int> _edges = [];
    private readonly Dictionary<string, AccountStats> _accounts = new(StringComparer.Ordinal);
    private AccountStats?[] _byId = new AccountStats?[256];
    // Per account number: the first and last edge of its out-list and of its in-list.
    private int[] _firstOut = new int[256];
    private int[] _lastOut = new int[256];
    private int[] _firstIn = new int[256];
    private int[] _lastIn = new int[256];
    private readonly Stack<int> _freeIds = new();
    private int _nextId;
    private EdgeSlot[] _slots = new EdgeSlot[1024];
    private int _usedSlots;
    private int _freeSlot = None;
    private int _edgeCount;
    // Lazy-deletion queues: an entry is live only when its time still equals the item's last-seen time (and, for an
    // edge, its slot still holds the edge the entry was made for).
    private readonly Queue<EdgeEntry> _edgeQueue = new();
    private readonly Queue<(long Time, string Account)> _vertexQueue = new();
    private readonly long _windowMs;
    private readonly int _maxVertices;
    private readonly int _maxEdges;
    private long _seq;
    private long _version;
    private long _viewVersion = -1;
    private BidirectionalGraph<string, AccountEdge>? _view;

    public AccountGraph(TimeSpan window, int maxVertices, int maxEdges)
    {
        _windowMs = (long)window.TotalMilliseconds;
        _maxVertices = maxVertices;
        _maxEdges = maxEdges;
    }

    /// <summary>
    /// The graph as a QuikGraph graph (vertices are account ids, edges <see cref="AccountEdge"/> copies): built on first
    /// use after a change, so for algorithms, baselines and tests rather than per post.
    /// </summary>
    public IBidirectionalGraph<string, AccountEdge> Graph
    {
        get
        {
            if (_view is not null && _viewVersion == _version) return _view;
            var g = new BidirectionalGraph<string, AccountEdge>(allowParallelEdges: true, _accounts.Count, _edgeCount);
            foreach (var a in _accounts.Keys) g.AddVertex(a);
            foreach (var a in _accounts.Values)
                for (var s = _firstOut[a.Id]; s != None; s = _slots[s].NextOut) g.AddEdge(View(s));
            _view = g;
            _viewVersion = _version;
            return g;
        }
    }

    public int VertexCount => _accounts.Count;
    public int EdgeCount => _edgeCount;
    public long EvictedVertices { get; private set; }
    public long EvictedEdges { get; private set; }
    internal long SlotMs => Math.Max(1, _windowMs / 12);
    internal long WindowMs => _windowMs;

    public bool TryGetAccount(string account, out AccountStats stats) => _accounts.TryGetValue(account, out stats!);

    internal IEnumerable<AccountStats> Accounts => _accounts.Values;

    /// <summary>The edge slots in use so far; the live ones have <see cref="EdgeSlot.Live"/> set (no copy).</summary>
    internal ReadOnlySpan<EdgeSlot> EdgeSlots => _slots.AsSpan(0, _usedSlots);

    /// <summary>The account with number <paramref name="id"/> (an endpoint of a live edge).</summary>
    internal AccountStats AccountAt(int id) => _byId[id]!;

    /// <summary>Copies of the edges from <paramref name="account"/>, in the order they were made.</summary>
    internal List<AccountEdge> OutEdges(string account)
    {
        var list = new List<AccountEdge>();
        if (_accounts.TryGetValue(account, out var a))
            for (var s = _firstOut[a.Id]; s != None; s = _slots[s].NextOut) list.Add(View(s));
        return list;
    }

    /// <summary>Copies of the edges to <paramref name="account"/>, in the order they were made.</summary>
    internal List<AccountEdge> InEdges(string account)
    {
        var list = new List<AccountEdge>();
        if (_accounts.TryGetValue(account, out var a))
            for (var s = _firstIn[a.Id]; s != None; s = _slots[s].NextIn) list.Add(View(s));
        return list;
    }

    private AccountEdge View(int slot)
    {
        ref readonly var e = ref _slots[slot];
        return new AccountEdge(_byId[e.Source]!.Account, _byId[e.Target]!.Account, e.Kind, e.Weight, e.FirstSeenMs, e.LastSeenMs);
    }

    /// <summary>
    /// The edge index's key: source and target account numbers and the kind, packed into one number (kind in the top
    /// three bits, source in the next 29, target in the low 32) and hashed with a multiplicative mix, so a lookup hashes
    /// no string and compares one integer.
    /// </summary>
    internal readonly struct EdgeKey(int source, int target, EdgeKind kind) : IEquatable<EdgeKey>
    {
        private readonly ulong _packed = ((ulong)kind << 61) | ((ulong)(uint)source << 32) | (uint)target;

        public bool Equals(EdgeKey other) => _packed == other._packed;
        public override bool Equals(object? obj) => obj is EdgeKey k && Equals(k);
        public override int GetHashCode() => (int)((_packed * 0x9E3779B97F4A7C15UL) >> 32);
    }

    /// <summary>An edge's entry in the eviction queue: the time it was last seen, and which edge in which slot.</summary>
    private readonly record struct EdgeEntry(long Time, long Seq, int Slot) : IComparable<EdgeEntry>
    {
        public int CompareTo(EdgeEntry other)
        {
            var c = Time.CompareTo(other.Time);
            return c != 0 ? c : Seq.CompareTo(other.Seq);
        }
    }

    /// <summary>Marks an account active at <paramref name="timeMs"/>, adding it when new.</summary>
    internal AccountStats Touch(string account, long timeMs) => Touch(account, timeMs, enforce: true);

    private AccountStats Touch(string account, long timeMs, bool enforce)
    {
        if (!_accounts.TryGetValue(account, out var a))
        {
            a = new AccountStats(account, timeMs) { Id = AllocateId() };
            _byId[a.Id] = a;
            _accounts.Add(account, a);
            _vertexQueue.Enqueue((timeMs, account));
            _version++;
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

    private int AllocateId()
    {
        if (_freeIds.TryPop(out var id)) return Reset(id);
        if (_nextId > MaxAccountId) throw new InvalidOperationException("account graph: more than 2^29 accounts at once");
        id = _nextId++;
        if (id == _byId.Length)
        {
            var size = _byId.Length * 2;
            Array.Resize(ref _byId, size);
            Array.Resize(ref _firstOut, size);
            Array.Resize(ref _lastOut, size);
            Array.Resize(ref _firstIn, size);
            Array.Resize(ref _lastIn, size);
        }
        return Reset(id);
    }

    private int Reset(int id)
    {
        _firstOut[id] = _lastOut[id] = _firstIn[id] = _lastIn[id] = None;
        return id;
    }

    /// <summary>Adds <paramref name="weight"/> to the edge (created when new); co-share edges are stored with source &lt; target.</summary>
    internal void AddInteraction(string source, string target, EdgeKind kind, long timeMs, double weight = 1)
    {
        if (kind == EdgeKind.CoShare && string.CompareOrdinal(source, target) > 0) (source, target) = (target, source);
        var sa = Touch(source, timeMs, enforce: false);
        var ta = Touch(target, timeMs, enforce: false);
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_edges, new EdgeKey(sa.Id, ta.Id, kind), out var exists);
        if (!exists)
        {
            slot = NewEdge(sa.Id, ta.Id, kind, timeMs, timeMs, weight);
            _edgeQueue.Enqueue(new EdgeEntry(timeMs, _slots[slot].Seq, slot));
        }
        else
        {
            ref var e = ref _slots[slot];
            if (timeMs > e.LastSeenMs)
            {
                e.LastSeenMs = timeMs;
                _edgeQueue.Enqueue(new EdgeEntry(timeMs, e.Seq, slot));
            }
            e.Weight += weight;
        }
        _version++;
        EnforceBounds(timeMs);
    }

    /// <summary>Puts a new edge in a free slot, at the end of its source's out-list and its target's in-list.</summary>
    private int NewEdge(int source, int target, EdgeKind kind, long firstSeenMs, long lastSeenMs, double weight)
    {
        int s;
        if (_freeSlot != None)
        {
            s = _freeSlot;
            _freeSlot = _slots[s].NextOut;
        }
        else
        {
            if (_usedSlots == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
            s = _usedSlots++;
        }
        ref var e = ref _slots[s];
        e.Seq = _seq++;
        e.FirstSeenMs = firstSeenMs;
        e.LastSeenMs = lastSeenMs;
        e.Weight = weight;
        e.Source = source;
        e.Target = target;
        e.Kind = kind;
        e.NextOut = None;
        e.PrevOut = _lastOut[source];
        if (e.PrevOut == None) _firstOut[source] = s;
        else _slots[e.PrevOut].NextOut = s;
        _lastOut[source] = s;
        e.NextIn = None;
        e.PrevIn = _lastIn[target];
        if (e.PrevIn == None) _firstIn[target] = s;
        else _slots[e.PrevIn].NextIn = s;
        _lastIn[target] = s;
        _edgeCount++;
        return s;
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
        while (_edgeCount > _maxEdges && _edgeQueue.Count > 0) PopEdge();
        while (_accounts.Count > _maxVertices && _vertexQueue.Count > 0) PopVertex();
        // Stale queue entries accumulate with repeated touches; rebuild a queue when they dominate it. Each queue is
        // compacted on its own: the vertex queue fills far faster than the edge queue and must not drag it along.
        if (_edgeQueue.Count > (2 * _edgeCount) + 1024) CompactEdges();
        if (_vertexQueue.Count > (2 * _accounts.Count) + 1024) CompactVertices();
        _ = nowMs;
    }

    private void PopEdge()
    {
        var entry = _edgeQueue.Dequeue();
        ref readonly var e = ref _slots[entry.Slot];
        if (e.Seq != entry.Seq || e.LastSeenMs != entry.Time) return;
        RemoveEdge(entry.Slot);
    }

    /// <summary>Unlinks the edge in <paramref name="s"/> from both endpoints' lists and the index, and frees the slot.</summary>
    private void RemoveEdge(int s)
    {
        ref var e = ref _slots[s];
        _edges.Remove(new EdgeKey(e.Source, e.Target, e.Kind));
        if (e.PrevOut == None) _firstOut[e.Source] = e.NextOut;
        else _slots[e.PrevOut].NextOut = e.NextOut;
        if (e.NextOut == None) _lastOut[e.Source] = e.PrevOut;
        else _slots[e.NextOut].PrevOut = e.PrevOut;
        if (e.PrevIn == None) _firstIn[e.Target] = e.NextIn;
        else _slots[e.PrevIn].NextIn = e.NextIn;
        if (e.NextIn == None) _lastIn[e.Target] = e.PrevIn;
        else _slots[e.NextIn].PrevIn = e.PrevIn;
        e = default;
        e.Seq = None;
        e.NextOut = _freeSlot;
        _freeSlot = s;
        _edgeCount--;
        _version++;
        EvictedEdges++;
    }

    private void PopVertex()
    {
        var (time, account) = _vertexQueue.Dequeue();
        if (!_accounts.TryGetValue(account, out var a) || a.LastActiveMs != time) return;
        // Its edges were last seen no later than the account itself, so they leave with it.
        var id = a.Id;
        while (_firstOut[id] != None) RemoveEdge(_firstOut[id]);
        while (_firstIn[id] != None) RemoveEdge(_firstIn[id]);
        _accounts.Remove(account);
        _byId[id] = null;
        _freeIds.Push(id);
        _version++;
        EvictedVertices++;
    }

    /// <summary>Rebuilds the edge queue from the live edges, by last-seen time then creation order.</summary>
    private void CompactEdges()
    {
        var array = WindowArrayPool<EdgeEntry>.Shared.Rent(_edgeCount);
        try
        {
            var live = array.AsSpan(0, _edgeCount);
            var i = 0;
            for (var s = 0; s < _usedSlots; s++)
            {
                ref readonly var e = ref _slots[s];
                if (e.Live) live[i++] = new EdgeEntry(e.LastSeenMs, e.Seq, s);
            }
            live.Sort();
            _edgeQueue.Clear();
            foreach (var entry in live) _edgeQueue.Enqueue(entry);
        }
        finally
        {
            WindowArrayPool<EdgeEntry>.Shared.Return(array);
        }
    }

    /// <summary>Rebuilds the vertex queue from the live accounts, by last-active time then account id (ordinal).</summary>
    private void CompactVertices()
    {
        // The accounts in (last active, id) order. Times are radix-sorted and only accounts active at the same
        // millisecond (often dozens: a post's co-share partners are all touched at its time) compare their ids; a
        // comparison sort of the (time, id) keys was 1.5 % of a 1M-post run's samples. Pooled: compaction is frequent.
        var n = _accounts.Count;
        var keysArray = WindowArrayPool<AccountKey>.Shared.Rent(n);
        var orderArray = WindowArrayPool<int>.Shared.Rent(2 * n);
        try
        {
            var i = 0;
            foreach (var a in _accounts.Values) keysArray[i++] = new AccountKey(a.LastActiveMs, a.Account);
            var order = orderArray.AsSpan(0, n);
            TimeOrder(keysArray, n, order, orderArray.AsSpan(n, n));
            _vertexQueue.Clear();
            foreach (var k in order) _vertexQueue.Enqueue((keysArray[k].LastActiveMs, keysArray[k].Account));
        }
        finally
        {
            WindowArrayPool<AccountKey>.Shared.Return(keysArray, clearArray: true);
            WindowArrayPool<int>.Shared.Return(orderArray);
        }
    }

    private const int RadixBits = 11;
    private int[]? _radixCounts;

    /// <summary>
    /// Writes into <paramref name="order"/> the positions of the first <paramref name="n"/> keys in (last active, id)
    /// order, the order of <see cref="AccountKey.CompareTo"/>: an LSD radix sort of the times' offsets from the earliest
    /// (three stable 11-bit passes), then each run of equal times sorted by id. Times more than 2^33 ms apart (99 days)
    /// fall back to a comparison sort.
    /// </summary>
    internal void TimeOrder(AccountKey[] keys, int n, Span<int> order, Span<int> scratch)
    {
        if (n == 0) return;
        long min = long.MaxValue, max = long.MinValue;
        for (var i = 0; i < n; i++)
        {
            min = Math.Min(min, keys[i].LastActiveMs);
            max = Math.Max(max, keys[i].LastActiveMs);
        }
        for (var i = 0; i < n; i++) order[i] = i;
        if ((ulong)(max - min) >= 1UL << (3 * RadixBits))
        {
            order.Sort(new ByKey(keys));
            return;
        }
        var counts = _radixCounts ??= new int[1 << RadixBits];
        var from = order;
        var to = scratch;
        for (var shift = 0; shift < 3 * RadixBits; shift += RadixBits)
        {
            if ((ulong)(max - min) >> shift == 0) break; // every remaining digit is zero
            Array.Clear(counts);
            foreach (var k in from) counts[Digit(keys[k].LastActiveMs - min, shift)]++;
            var sum = 0;
            for (var d = 0; d < counts.Length; d++) (counts[d], sum) = (sum, sum + counts[d]);
            foreach (var k in from) to[counts[Digit(keys[k].LastActiveMs - min, shift)]++] = k;
            var t = from;
            from = to;
            to = t;
        }
        if (from != order) from.CopyTo(order);
        for (var start = 0; start < n;)
        {
            var time = keys[order[start]].LastActiveMs;
            var end = start + 1;
            while (end < n && keys[order[end]].LastActiveMs == time) end++;
            if (end - start > 1) SortRun(order[start..end], keys);
            start = end;
        }
    }

    // Runs of equal times are mostly a handful of accounts: an insertion sort, which allocates nothing (a span sort
    // with a comparer boxes it and makes a delegate per call, ~90 B per run, thousands of runs per compaction).
    private static void SortRun(Span<int> run, AccountKey[] keys)
    {
        if (run.Length > 32)
        {
            run.Sort(new ByKey(keys));
            return;
        }
        for (var i = 1; i < run.Length; i++)
        {
            var x = run[i];
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(keys[run[j]].Account, keys[x].Account) > 0)
            {
                run[j + 1] = run[j];
                j--;
            }
            run[j + 1] = x;
        }
    }

    private static int Digit(long offset, int shift) => (int)((ulong)offset >> shift) & ((1 << RadixBits) - 1);

    private readonly struct ByKey(AccountKey[] keys) : IComparer<int>
    {
        public int Compare(int x, int y) => keys[x].CompareTo(keys[y]);
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
        var count = _edgeCount;
        var edges = WindowArrayPool<EdgeCopy>.Shared.Rent(count);
        var k = 0;
        for (var s = 0; s < _usedSlots; s++)
        {
            ref readonly var e = ref _slots[s];
            if (!e.Live) continue;
            edges[k++] = new EdgeCopy(e.LastSeenMs, e.Seq, _byId[e.Source]!.SavePosition, _byId[e.Target]!.SavePosition, e.Kind, e.Weight, e.FirstSeenMs);
        }
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

    internal readonly record struct AccountKey(long LastActiveMs, string Account) : IComparable<AccountKey>
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
            if (_accounts.ContainsKey(a.Account)) throw new InvalidDataException("network state: account listed twice");
            a.Id = AllocateId();
            _byId[a.Id] = a;
            names.Add(a.Account);
            _accounts.Add(a.Account, a);
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
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_edges, new EdgeKey(sa.Id, ta.Id, kind), out var exists);
            if (exists) throw new InvalidDataException("network state: edge listed twice");
            slot = NewEdge(sa.Id, ta.Id, kind, first, last, weight);
            _edgeQueue.Enqueue(new EdgeEntry(last, _slots[slot].Seq, slot));
        }
        EvictedVertices = r.ReadInt64();
        EvictedEdges = r.ReadInt64();
        _version++;
    }
}
