namespace EarlyWarning.Network.CoSharing;

/// <summary>
/// The LSH band buckets of recent near-duplicate candidates: which recent items carry a given band key. Items live in a
/// ring in arrival order; each of an item's band keys is a node chained, newest first, to the previous node whose key
/// fell in the same hash slot (the hash chains of an LZ77 match finder). Nothing is ever removed: an item is
/// overwritten when the ring comes round, and the ring doubles rather than overwrite an item still within the keep
/// time. Compared with a dictionary of per-key lists and an expiry queue per band key, a post costs one write per band
/// instead of a lookup, an insert, a queue entry and later a lookup, a list scan and a removal (2026-12-07).
/// Not thread-safe.
/// </summary>
internal sealed class BandIndex<T>
    where T : class
{
    private readonly int _bands;
    private readonly int _perKey;
    private readonly int _maxCapacity;
    private T?[] _items;
    private long[] _times;
    private long[] _stamps;
    // Each item's MinHash signature, copied in (stride = the longest signature seen): the index owns them, so a post's
    // own signature array dies young instead of living through the interval into the older generations.
    private ulong[] _sigs;
    private int[] _sigLengths;
    private int _stride;
    // Per node (ring slot × bands + band): its key and the next older node of its hash slot (node id, or -1).
    private ulong[] _keys;
    private long[] _next;
    // Per hash slot: its newest node id, or -1. A node id is sequence × bands + band.
    private long[] _head;
    private int _headShift;
    private long _seq;

    /// <param name="bands">Band keys per item.</param>
    /// <param name="perKey">At most this many of the latest items carrying a key are its candidates.</param>
    /// <param name="capacity">Initial ring size (a power of two).</param>
    /// <param name="maxCapacity">The ring never grows beyond this (a power of two): when full of items inside the keep
    /// time, it overwrites the oldest anyway and counts it in <see cref="DroppedEarly"/>.</param>
    public BandIndex(int bands, int perKey, int capacity = 1024, int maxCapacity = 1 << 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bands, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(perKey, 1);
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two of at least 2");
        if (maxCapacity < capacity || (maxCapacity & (maxCapacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(maxCapacity), "a power of two, at least the initial capacity");
        _maxCapacity = maxCapacity;
        _bands = bands;
        _perKey = perKey;
        _items = new T?[capacity];
        _times = new long[capacity];
        _stamps = new long[capacity];
        _sigs = [];
        _sigLengths = new int[capacity];
        _keys = new ulong[capacity * bands];
        _next = new long[capacity * bands];
        _head = NewHead(capacity * bands);
    }

    /// <summary>Items the ring holds now (it grows, never shrinks).</summary>
    public int Capacity => _items.Length;

    /// <summary>Items overwritten while still at or after the keep time, because the ring was at its bound.</summary>
    public long DroppedEarly { get; private set; }

    /// <summary>Items added so far; an item's sequence number is its position in that order.</summary>
    public long Count => _seq;

    /// <summary>The item with sequence number <paramref name="seq"/> (one that <see cref="Candidates"/> returned).</summary>
    public T Item(long seq) => _items[Slot(seq)]!;

    /// <summary>The signature stored with the item <paramref name="seq"/>.</summary>
    public ReadOnlySpan<ulong> Signature(long seq)
    {
        var slot = Slot(seq);
        return _sigs.AsSpan(slot * _stride, _sigLengths[slot]);
    }

    /// <summary>
    /// True the first time an item is visited with <paramref name="stamp"/> (a number that is new for each query):
    /// an item that shares several bands with the query is looked at once.
    /// </summary>
    public bool Visit(long seq, long stamp)
    {
        ref var s = ref _stamps[Slot(seq)];
        if (s == stamp) return false;
        s = stamp;
        return true;
    }

    /// <summary>
    /// Adds <paramref name="item"/> at <paramref name="timeMs"/> under its <paramref name="bandKeys"/> (one per band),
    /// with a copy of its <paramref name="signature"/>. The ring doubles first when the item it would overwrite is at or
    /// after <paramref name="keepFromMs"/>.
    /// </summary>
    public void Add(T item, long timeMs, ReadOnlySpan<ulong> bandKeys, ReadOnlySpan<ulong> signature, long keepFromMs)
    {
        if (bandKeys.Length != _bands) throw new ArgumentException($"expected {_bands} band keys", nameof(bandKeys));
        if (_seq >= _items.Length && _times[Slot(_seq)] >= keepFromMs)
        {
            if (_items.Length < _maxCapacity) Grow();
            else DroppedEarly++;
        }
        if (signature.Length > _stride) Widen(signature.Length);
        var slot = Slot(_seq);
        signature.CopyTo(_sigs.AsSpan(slot * _stride));
        _sigLengths[slot] = signature.Length;
        Insert(item, timeMs, bandKeys, _seq++);
    }

    private void Widen(int stride)
    {
        var sigs = new ulong[_items.Length * stride];
        for (var slot = 0; slot < _items.Length; slot++)
            _sigs.AsSpan(slot * _stride, _sigLengths[slot]).CopyTo(sigs.AsSpan(slot * stride));
        _sigs = sigs;
        _stride = stride;
    }

    /// <summary>
    /// The sequence numbers of the latest items (at most the per-key cap) carrying <paramref name="key"/>, newest first,
    /// into <paramref name="output"/>; returns how many. Items the ring has overwritten are gone.
    /// </summary>
    public int Candidates(ulong key, Span<long> output)
    {
        var n = 0;
        var oldest = _seq - _items.Length;
        var node = _head[HeadSlot(key)];
        var max = Math.Min(_perKey, output.Length);
        while (node >= 0)
        {
            var seq = node / _bands;
            if (seq < oldest) break; // chains run newest to oldest: the rest is overwritten too
            var at = (Slot(seq) * _bands) + (int)(node - (seq * _bands));
            if (_keys[at] == key)
            {
                output[n++] = seq;
                if (n == max) break;
            }
            node = _next[at];
        }
        return n;
    }

    /// <summary>A hint that <paramref name="key"/> is about to be looked up: its hash slot is fetched into the cache.</summary>
    public unsafe void Prefetch(ulong key)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(System.Runtime.CompilerServices.Unsafe.AsPointer(ref _head[HeadSlot(key)]));
    }

    private void Insert(T item, long timeMs, ReadOnlySpan<ulong> bandKeys, long seq)
    {
        var slot = Slot(seq);
        _items[slot] = item;
        _times[slot] = timeMs;
        _stamps[slot] = 0;
        var baseNode = seq * _bands;
        var at = slot * _bands;
        for (var b = 0; b < _bands; b++)
        {
            var k = bandKeys[b];
            ref var head = ref _head[HeadSlot(k)];
            _keys[at + b] = k;
            _next[at + b] = head;
            head = baseNode + b;
        }
    }

    private void Grow()
    {
        var oldItems = _items;
        var oldTimes = _times;
        var oldKeys = _keys;
        var oldSigs = _sigs;
        var oldLengths = _sigLengths;
        var capacity = oldItems.Length * 2;
        _items = new T?[capacity];
        _times = new long[capacity];
        _stamps = new long[capacity];
        _sigs = new ulong[capacity * _stride];
        _sigLengths = new int[capacity];
        _keys = new ulong[capacity * _bands];
        _next = new long[capacity * _bands];
        _head = NewHead(capacity * _bands);
        // Re-inserted oldest first, so every chain keeps its newest-first order.
        var oldMask = oldItems.Length - 1;
        for (var seq = Math.Max(0, _seq - oldItems.Length); seq < _seq; seq++)
        {
            var old = (int)(seq & oldMask);
            var slot = Slot(seq);
            oldSigs.AsSpan(old * _stride, oldLengths[old]).CopyTo(_sigs.AsSpan(slot * _stride));
            _sigLengths[slot] = oldLengths[old];
            Insert(oldItems[old]!, oldTimes[old], oldKeys.AsSpan(old * _bands, _bands), seq);
        }
    }

    // Twice as many hash slots as nodes: a chain holds few nodes of other keys.
    private long[] NewHead(int nodes)
    {
        var head = new long[nodes * 2];
        head.AsSpan().Fill(-1);
        _headShift = 64 - System.Numerics.BitOperations.Log2((uint)head.Length);
        return head;
    }

    private int Slot(long seq) => (int)(seq & (_items.Length - 1));

    // Fibonacci hashing: the top bits of the key times 2^64/φ pick the slot.
    private int HeadSlot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _headShift);
}
