using System.Numerics;
using System.Runtime.Intrinsics;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.CoSharing;

/// <summary>
/// One co-share: two different accounts posted the same content key within the interval. Each account comes with its
/// hash (<see cref="string.GetHashCode()"/>, computed once per post), so the pair table never re-reads the ids.
/// </summary>
internal readonly record struct CoShare(string Key, string AccountA, int HashA, string PostA, long TimeA, string AccountB, int HashB, string PostB, long TimeB)
{
    /// <summary>A co-share with both accounts' hashes computed here.</summary>
    public static CoShare Of(string key, string accountA, string postA, long timeA, string accountB, string postB, long timeB) =>
        new(key, accountA, accountA.GetHashCode(), postA, timeA, accountB, accountB.GetHashCode(), postB, timeB);
}

/// <summary>
/// Finds co-sharing among recent posts: the same URL, the same media hash, or near-duplicate text found with
/// MinHash LSH (bands × rows over the signature, candidates verified by the fraction of equal slots).
/// Near-duplicate texts are grouped into text clusters so that paraphrases that match only some members still
/// share one content key. A text's candidates are, band by band, the latest texts (up to the per-key cap) sharing
/// that band's key and within the interval. Everything older than the interval is evicted (the band index overwrites
/// such texts when it comes round).
/// </summary>
internal sealed class CoShareIndex
{
    private sealed class Entry(string account, string postId, long time, int accountHash = 0)
    {
        public string Account { get; } = account;
        /// <summary>
        /// <see cref="Account"/>'s hash, for the entries under a content key (<see cref="Add"/>), which form co-shares;
        /// 0 in the text-cluster and family entries, which never do.
        /// </summary>
        public int AccountHash { get; } = accountHash;
        public string PostId { get; } = postId;
        public long Time { get; } = time;
        public int Cluster { get; init; }
        /// <summary>The novel-text family of the entry's cluster, or -1 when the cluster did not begin on a novel text.</summary>
        public int Family { get; init; } = -1;
    }

    private readonly long _intervalMs;
    private readonly int _bands;
    private readonly int _rows;
    private readonly double _threshold;
    private readonly int _maxPerKey;
    private readonly Dictionary<string, List<Entry>> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<(long Time, string Key)> _keyQueue = new();
    // Recent texts by LSH band key; candidates are the latest MaxPostsPerContent texts of a band key.
    private readonly BandIndex<Entry> _bandIndex;
    private readonly long[] _found;
    private long _visitStamp;
    private long _latestTextMs = long.MinValue;
    // Novelty memory: band key → first and last time seen, one slot per key (overwritten on collision).
    private readonly long _noveltyMs;
    private readonly ulong[] _memKeys;
    private readonly long[] _memFirst;
    private readonly long[] _memLast;
    // Each novel-text family's posts within the interval (a wave whose paraphrases split into several clusters stays
    // one family; an entry carries its family, so a post joining a cluster or resembling a novel post finds it there).
    private readonly Dictionary<int, List<Entry>> _familyPosts = [];
    private readonly Queue<(long Time, int Family)> _familyQueue = new();
    // Lists of keys that expired, kept for new keys: most content keys are new, and a fresh list (and its array) per
    // key per post was ~8 % of everything the pipeline allocated (EventPipe allocation ticks, 150k posts; band keys
    // had lists too then).
    private readonly Stack<List<Entry>> _freeLists = new();
    private const int MaxFreeLists = 4096;
    private int _nextCluster;

    public CoShareIndex(NetworkOptions o)
    {
        _intervalMs = (long)o.CoShareInterval.TotalMilliseconds;
        _bands = o.LshBands;
        _rows = o.LshRows;
        _threshold = o.NearDuplicateJaccard;
        _maxPerKey = o.MaxPostsPerContent;
        _bandIndex = new BandIndex<Entry>(_bands, _maxPerKey, Math.Min(1024, o.MaxRecentTexts), o.MaxRecentTexts);
        _found = new long[_maxPerKey];
        _noveltyMs = (long)o.NoveltyHorizon.TotalMilliseconds;
        _memKeys = new ulong[o.NoveltySlots];
        _memFirst = new long[o.NoveltySlots];
        _memLast = new long[o.NoveltySlots];
        _memLast.AsSpan().Fill(long.MinValue);
    }

    /// <summary>The novel-text family of the post last given to <see cref="TextKey"/>, or -1 when its text was not novel.</summary>
    public int LastFamily { get; private set; } = -1;

    public int NextCluster { get => _nextCluster; set => _nextCluster = value; }
    public long SignaturesRejected { get; private set; }

    /// <summary>Text cluster key of a signature: joins the best near-duplicate within the interval or starts a new cluster.</summary>
    public string? TextKey(string account, string postId, long timeMs, ulong[]? signature)
    {
        if (signature is null) return null;
        if (signature.Length < _bands * _rows || IsDegenerate(signature))
        {
            SignaturesRejected++;
            return null;
        }
        Expire(timeMs);
        _latestTextMs = Math.Max(_latestTextMs, timeMs);
        Entry? best = null;
        var bestSim = -1.0;
        var stamp = ++_visitStamp;
        Span<ulong> bandKeys = stackalloc ulong[_bands];
        for (var b = 0; b < _bands; b++)
        {
            var h = Hashing.Mix((ulong)b + 0x51A7);
            for (var r = 0; r < _rows; r++) h = Hashing.Mix(h ^ signature[(b * _rows) + r]);
            bandKeys[b] = h;
            // Each band's hash slot is a cache miss in a table of millions: all are requested before any is read.
            _bandIndex.Prefetch(h);
        }
        for (var b = 0; b < _bands; b++)
        {
            // The band's latest texts, looked at oldest first.
            var found = _bandIndex.Candidates(bandKeys[b], _found);
            for (var f = found - 1; f >= 0; f--)
            {
                var c = _bandIndex.Item(_found[f]);
                if (timeMs - c.Time > _intervalMs || !_bandIndex.Visit(_found[f], stamp)) continue;
                var sim = Similarity(signature, _bandIndex.Signature(_found[f]));
                // Ties go to the earliest candidate so the choice does not depend on bucket order.
                if (sim > bestSim || (sim == bestSim && best is not null && c.Time < best.Time))
                {
                    bestSim = sim;
                    best = c;
                }
            }
        }
        int cluster;
        if (best is not null && bestSim >= _threshold)
        {
            cluster = best.Cluster;
            LastFamily = best.Family;
        }
        else
        {
            cluster = _nextCluster++;
            // A novel text that resembles a post of a novel family in this interval (a shared LSH band) is another
            // paraphrase of the same wave: it joins that family.
            LastFamily = !IsNovel(bandKeys, timeMs) ? -1 : best is { Family: >= 0 } ? best.Family : cluster;
        }
        Remember(bandKeys, timeMs);
        if (LastFamily >= 0)
        {
            if (!_familyPosts.TryGetValue(LastFamily, out var posts)) _familyPosts.Add(LastFamily, posts = RentList());
            posts.Add(new Entry(account, postId, timeMs));
            if (posts.Count > _maxPerKey) posts.RemoveAt(0);
            _familyQueue.Enqueue((timeMs, LastFamily));
        }
        var entry = new Entry(account, postId, timeMs) { Cluster = cluster, Family = LastFamily };
        // Texts older than the interval before the latest text are never candidates again and may be overwritten.
        _bandIndex.Add(entry, timeMs, bandKeys, signature, _latestTextMs - _intervalMs);
        Span<char> key = stackalloc char[2 + 11];
        "t:".CopyTo(key);
        cluster.TryFormat(key[2..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        return Intern(key[..(2 + digits)]);
    }

    /// <summary>
    /// The key string the index already holds for these characters, so the posts that share a content key share one
    /// string (kept for the whole window by the recent posts and the pair table) instead of a copy each; a new string
    /// when the index has none.
    /// </summary>
    public string Intern(ReadOnlySpan<char> key) =>
        _byKey.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var existing, out _) ? existing : new string(key);

    /// <summary>
    /// Distinct accounts among the posts of novel-text family <paramref name="family"/> within the interval (bounded by
    /// the per-key cap), into <paramref name="accounts"/>; their post ids into <paramref name="postIds"/>; 0 when the
    /// family has fewer than <paramref name="minAccounts"/> posts.
    /// </summary>
    public int FamilyPosts(int family, int minAccounts, HashSet<string> accounts, List<string> postIds)
    {
        accounts.Clear();
        postIds.Clear();
        // Fewer posts than the threshold cannot hold enough accounts: most posts stop here without hashing anything.
        if (!_familyPosts.TryGetValue(family, out var list) || list.Count < minAccounts) return 0;
        foreach (var e in list)
        {
            accounts.Add(e.Account);
            postIds.Add(e.PostId);
        }
        return accounts.Count;
    }

    // A text is novel unless at least two of its band keys were already around before this interval (first seen
    // earlier, still seen within the horizon): one shared band happens between unrelated texts that share a few
    // words, two rarely do, and a recurring text leaves many. Bands first seen inside the interval belong to the
    // wave itself, so the later paraphrases of a new message stay novel.
    private bool IsNovel(ReadOnlySpan<ulong> bandKeys, long timeMs)
    {
        var horizon = timeMs - _noveltyMs;
        var interval = timeMs - _intervalMs;
        var mask = _memKeys.Length - 1;
        var hits = 0;
        foreach (var k in bandKeys)
        {
            var i = (int)(k & (ulong)mask);
            if (_memKeys[i] == k && _memLast[i] >= horizon && _memFirst[i] < interval && ++hits >= 2) return false;
        }
        return true;
    }

    private void Remember(ReadOnlySpan<ulong> bandKeys, long timeMs)
    {
        var mask = _memKeys.Length - 1;
        foreach (var k in bandKeys)
        {
            var i = (int)(k & (ulong)mask);
            if (_memKeys[i] == k && _memLast[i] >= timeMs - _noveltyMs)
            {
                _memLast[i] = Math.Max(_memLast[i], timeMs);
                _memFirst[i] = Math.Min(_memFirst[i], timeMs);
            }
            else
            {
                _memKeys[i] = k;
                _memFirst[i] = timeMs;
                _memLast[i] = timeMs;
            }
        }
    }

    /// <summary>
    /// The novelty memory's live slots (within the horizon of <paramref name="nowMs"/>), for the stage's state. Band
    /// keys are random 64-bit values; they are written seven bits per byte with every byte's top bit set, so the state
    /// never holds stray ASCII (a privacy scan of the store file looks for account ids as ASCII text).
    /// </summary>
    internal void WriteMemory(BinaryWriter w, long nowMs)
    {
        var cutoff = nowMs - _noveltyMs;
        var n = 0;
        for (var i = 0; i < _memLast.Length; i++) if (_memLast[i] >= cutoff) n++;
        w.Write(n);
        for (var i = 0; i < _memLast.Length; i++)
        {
            if (_memLast[i] < cutoff) continue;
            WriteHigh(w, _memKeys[i]);
            WriteHigh(w, (ulong)_memFirst[i]);
            WriteHigh(w, (ulong)_memLast[i]);
        }
    }

    /// <summary>Reads what <see cref="WriteMemory"/> wrote (<paramref name="highBit"/>), or the plain 8-byte form of state version 2.</summary>
    internal void ReadMemory(BinaryReader r, bool highBit)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > 1 << 28) throw new InvalidDataException("network state: bad novelty memory");
        for (var j = 0; j < n; j++)
        {
            var k = highBit ? ReadHigh(r) : r.ReadUInt64();
            var first = highBit ? (long)ReadHigh(r) : r.ReadInt64();
            var last = highBit ? (long)ReadHigh(r) : r.ReadInt64();
            // Re-hashed into this instance's table: the slot count may have been reconfigured.
            var at = (int)(k & (ulong)(_memKeys.Length - 1));
            if (_memLast[at] < last)
            {
                _memKeys[at] = k;
                _memFirst[at] = first;
                _memLast[at] = last;
            }
        }
    }

    private static void WriteHigh(BinaryWriter w, ulong v)
    {
        Span<byte> b = stackalloc byte[10];
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = (byte)(0x80 | (v & 0x7F));
            v >>= 7;
        }
        w.Write(b);
    }

    private static ulong ReadHigh(BinaryReader r)
    {
        ulong v = 0;
        for (var i = 0; i < 10; i++)
        {
            var b = r.ReadByte();
            if ((b & 0x80) == 0) throw new InvalidDataException("network state: bad novelty memory encoding");
            v |= (ulong)(b & 0x7F) << (7 * i);
        }
        return v;
    }

    /// <summary>
    /// Registers a post under a content key and reports its co-shares with earlier posts of other accounts
    /// (<paramref name="accountHash"/> is <paramref name="account"/>'s <see cref="string.GetHashCode()"/>).
    /// </summary>
    public void Add(string key, string account, int accountHash, string postId, long timeMs, List<CoShare> output)
    {
        Expire(timeMs);
        if (!_byKey.TryGetValue(key, out var list))
        {
            list = RentList();
            _byKey.Add(key, list);
        }
        foreach (var e in list)
        {
            if ((e.AccountHash == accountHash && e.Account == account) || Math.Abs(timeMs - e.Time) > _intervalMs) continue;
            output.Add(new CoShare(key, e.Account, e.AccountHash, e.PostId, e.Time, account, accountHash, postId, timeMs));
        }
        list.Add(new Entry(account, postId, timeMs, accountHash));
        if (list.Count > _maxPerKey) list.RemoveAt(0);
        _keyQueue.Enqueue((timeMs, key));
    }

    public static double Similarity(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        var n = Math.Min(a.Length, b.Length);
        if (n == 0) return 0;
        var eq = 0;
        var i = 0;
        // Equal slots counted 4 or 8 at a time (an equality mask's bit count); this runs for every LSH candidate.
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
                eq += BitOperations.PopCount(Vector512.Equals(Vector512.Create<ulong>(a.Slice(i, 8)), Vector512.Create<ulong>(b.Slice(i, 8))).ExtractMostSignificantBits());
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
                eq += BitOperations.PopCount(Vector256.Equals(Vector256.Create<ulong>(a.Slice(i, 4)), Vector256.Create<ulong>(b.Slice(i, 4))).ExtractMostSignificantBits());
        }
        for (; i < n; i++) if (a[i] == b[i]) eq++;
        return (double)eq / n;
    }

    private static bool IsDegenerate(ulong[] s)
    {
        // An empty token set gives a signature of identical slots; it says nothing about the text.
        for (var i = 1; i < s.Length; i++) if (s[i] != s[0]) return false;
        return true;
    }

    private void Expire(long nowMs)
    {
        var cutoff = nowMs - _intervalMs;
        while (_keyQueue.Count > 0 && _keyQueue.Peek().Time < cutoff)
        {
            var (_, key) = _keyQueue.Dequeue();
            if (_byKey.TryGetValue(key, out var list) && RemoveOlder(list, cutoff)) _byKey.Remove(key);
        }
        while (_familyQueue.Count > 0 && _familyQueue.Peek().Time < cutoff)
        {
            var (_, f) = _familyQueue.Dequeue();
            if (_familyPosts.TryGetValue(f, out var list) && RemoveOlder(list, cutoff)) _familyPosts.Remove(f);
        }
    }

    /// <summary>Removes the entries older than <paramref name="cutoff"/>, keeping the order of the rest; when none is left, the list goes back to the free lists and true is returned.</summary>
    private bool RemoveOlder(List<Entry> list, long cutoff)
    {
        var kept = 0;
        for (var i = 0; i < list.Count; i++)
            if (list[i].Time >= cutoff) list[kept++] = list[i];
        list.RemoveRange(kept, list.Count - kept);
        if (kept > 0) return false;
        // Lists a popular key grew large are left to the collector rather than kept.
        if (list.Capacity <= 32 && _freeLists.Count < MaxFreeLists) _freeLists.Push(list);
        return true;
    }

    private List<Entry> RentList() => _freeLists.TryPop(out var list) ? list : [];

    /// <summary>Texts dropped from the band index while still inside the interval (its bound was full).</summary>
    public long TextsDroppedEarly => _bandIndex.DroppedEarly;

    /// <summary>Texts the band index holds room for (it grows to the most texts seen within one interval, up to its bound).</summary>
    internal int BandCapacity => _bandIndex.Capacity;
}
