using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Network.CoSharing;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Coordination;

/// <summary>What the detector remembers about a post that carried at least one content key.</summary>
internal sealed record PostRecord(
    string PostId, string Author, long TimeMs, string[] Keys, string? Country, string? Region, string? Target,
    bool Incitement, int Followers, string[] Hashtags)
{
    /// <summary>The detector's ids of <see cref="Keys"/> (same order), set while the record is among its recent posts.</summary>
    internal int[] KeyIds { get; set; } = [];
}

/// <summary>
/// Coordination detection: account pairs that co-shared several distinct contents within the interval form a
/// graph; its k-core components are candidate groups. A group is a campaign when its synchronised co-shares
/// (same content key, different accounts, within the interval) far exceed what the same posts give after their
/// times are shuffled among the group's posts (the null model: same accounts, same contents, same activity
/// times, no synchrony) — so an organic burst on one hashtag with different texts, or accounts that share the same
/// popular link at random moments, is not flagged.
/// </summary>
internal sealed class CoordinationDetector
{
    /// <summary>
    /// One account pair as a value in a slot of one array: its accounts, the distinct content keys it co-shared (at
    /// most <see cref="MaxPairKeys"/>, in the order first seen) and when. Most pairs co-share once, so the first key is a
    /// field and the rest an array made on the second key. Up to a million pairs live at once and most live for the
    /// whole horizon: as objects (five per post on the election-day stream) each was copied from generation to
    /// generation and marked on every full collection.
    /// </summary>
    private struct PairSlot
    {
        public string A;
        public string B;
        public string? First;
        public string[]? More;
        public long LastMs;
        /// <summary>Time of the pair's expiry entry (at or before <see cref="LastMs"/>).</summary>
        public long ExpiryMs;
        /// <summary>Creation number, unique per pair; -1 while the slot is free. An expiry entry names the pair by it.</summary>
        public long Seq;
        public int KeyCount;
        public bool Queued;
        /// <summary>The pair's hash (<see cref="PairHash"/>) and the next pair of its chain (slot + 1; 0 ends it).</summary>
        public int Hash;
        public int Next;

        /// <summary>Adds <paramref name="key"/> unless it is already there or the pair holds its maximum; returns whether it was added.</summary>
        public bool TryAddKey(string key)
        {
            if (KeyCount >= MaxPairKeys) return false;
            if (KeyCount == 0)
            {
                First = key;
                KeyCount = 1;
                return true;
            }
            if (string.Equals(First, key, StringComparison.Ordinal)) return false;
            for (var i = 0; i < KeyCount - 1; i++)
                if (string.Equals(More![i], key, StringComparison.Ordinal)) return false;
            More ??= new string[MaxPairKeys - 1];
            More[KeyCount - 1] = key;
            KeyCount++;
            return true;
        }

        public readonly void CopyKeysTo(string[] destination, int at)
        {
            if (KeyCount == 0) return;
            destination[at] = First!;
            if (KeyCount > 1) Array.Copy(More!, 0, destination, at + 1, KeyCount - 1);
        }
    }

    /// <summary>A pair's expiry entry: its slot and the creation number of the pair it was made for.</summary>
    private readonly record struct PairRef(int Slot, long Seq);

    private const int MaxPairKeys = 8;

    private sealed class Burst
    {
        private readonly HashSet<string> _members = new(StringComparer.Ordinal);

        /// <summary>In ordinal order (the order evidence and state use); added to through <see cref="Add"/> only.</summary>
        public SortedSet<string> Accounts { get; } = new(StringComparer.Ordinal);
        public SortedSet<string> PostIds { get; } = new(StringComparer.Ordinal);

        public void Add(string account)
        {
            // Most calls re-add accounts the burst already holds: one hash, and the sorted set only for new ones.
            if (_members.Add(account)) Accounts.Add(account);
        }

        /// <summary>Membership by hash (the sorted set's own lookup descends its tree comparing strings).</summary>
        public bool Contains(string account) => _members.Contains(account);

        public long LastMs { get; set; }
        public int Reported { get; set; }
    }

    internal sealed class Campaign
    {
        public required int Id { get; init; }
        public required long StartMs { get; init; }
        public long EndMs { get; set; }
        public required Scope Scope { get; init; }
        public SortedSet<string> Accounts { get; } = new(StringComparer.Ordinal);
        public List<string> PostIds { get; } = [];
        public HashSet<string> PostSet { get; } = new(StringComparer.Ordinal);
        public double Score { get; set; }
        public double Baseline { get; set; }
        public int Reach { get; set; }
        public int IncitementPosts { get; set; }
        public List<string> TopTerms { get; set; } = [];
    }

    private readonly NetworkOptions _o;
    private readonly long _intervalMs;
    private readonly long _horizonMs;
    private readonly Queue<PostRecord> _recent = new();
    // Content keys of the recent posts as small ids, so a group's evaluation lists posts by key in arrays.
    private readonly RefCountedIds _keyIds = new();
    private readonly Dictionary<string, AuthorPosts> _byAuthor = new(StringComparer.Ordinal);

    /// <summary>
    /// An account's recent posts in stream order (with their sequence numbers) and the version of its last change
    /// (a post added or gone): one entry per account for both, so adding or expiring a post hashes the id once.
    /// </summary>
    private sealed class AuthorPosts
    {
        public Queue<(long Seq, PostRecord Post)> Posts { get; } = new();
        public long Version { get; set; }
    }
    private long _postSeq;
    // The recent posts by id (a repeated id keeps its later records in _repeatedIds), so a burst finds its posts
    // without walking every post of every account in it.
    private readonly Dictionary<string, PostRecord> _byPostId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PostRecord>> _repeatedIds = new(StringComparer.Ordinal);
    // The pair table: chains of slots per hash bucket (slot + 1 of the first; 0 when empty). A pair is found by the two
    // accounts' hashes, carried with every co-share, and removed by its slot, so neither reads the account ids (a
    // dictionary keyed by the two strings hashed both on every co-share and every removal: millions of each per 1M
    // posts, each reading two strings scattered over the heap).
    private int[] _pairHeads = new int[1024];
    private int _pairCount;
    private PairSlot[] _pairSlots = new PairSlot[1024];
    private int _usedPairSlots;
    private readonly Stack<int> _freePairSlots = new();
    private long _pairSeq;
    // One expiry entry per pair, at a time no later than its last co-share: a co-share only moves the pair's time on,
    // and an entry that comes due for a pair active since is put back at the pair's time. Entries sit in buckets of one
    // event-minute (detection runs every event-minute), the buckets in time order: pruning walks whole buckets in
    // sequence and splits only the one the cutoff falls in. A heap of millions of entries cost ~1 µs of cache misses
    // per pair (the stream makes ~4.7 pairs per post); a bucket append and a sequential walk cost a few ns.
    private const long ExpiryBucketMs = 60_000;
    private readonly Dictionary<long, List<PairRef>> _expiryBuckets = [];
    private readonly PriorityQueue<long, long> _expiryOrder = new(); // bucket numbers that hold entries, lowest first
    private readonly Stack<List<PairRef>> _freeBuckets = new();
    private readonly List<int> _dueAgain = [];
    // Entries of pairs the pair bound removed: left in their buckets (skipped when due) until they outnumber the pairs,
    // then dropped by a rebuild, so removed pairs are not kept alive for up to a horizon in any number.
    private int _staleExpiry;
    // Pairs with at least MinDistinctContents keys: the only ones candidate groups are built from.
    private readonly StrongPairs _strong = new();
    private readonly List<Campaign> _campaigns = [];
    // Novel texts posted by many accounts within one interval (single-wave campaigns), by novel-text family.
    private readonly SortedDictionary<int, Burst> _bursts = [];
    private int _nextCampaign;
    // Detection runs every event-minute, but between two runs most candidate groups neither change members nor get a
    // post: their evaluation (shuffled-time null model) would give the same result. Each author's posts carry a
    // version (a fresh value of one global counter whenever the author's queue changes, so a version is never
    // reused), the candidate groups are rebuilt only when the strong-pair set changed, and a group whose members'
    // versions all equal those of its last evaluation reuses that result. The output is the same as recomputing.
    private long _version;
    private long _strongVersion;
    private long _groupsVersion = -1;
    private List<List<string>> _groups = [];
    private Dictionary<string, (long[] Versions, GroupResult? Result)> _evaluated = new(StringComparer.Ordinal);

    public CoordinationDetector(NetworkOptions o)
    {
        _o = o;
        _intervalMs = (long)o.CoShareInterval.TotalMilliseconds;
        _synchrony = new SynchronyCounter(_intervalMs);
        _horizonMs = (long)o.CampaignHorizon.TotalMilliseconds;
    }

    public int PairCount => _pairCount;
    /// <summary>The account pairs tracked now (tests).</summary>
    internal IEnumerable<(string, string)> PairKeys
    {
        get
        {
            for (var slot = 0; slot < _usedPairSlots; slot++)
                if (_pairSlots[slot].Seq >= 0) yield return (_pairSlots[slot].A, _pairSlots[slot].B);
        }
    }
    /// <summary>The pairs with at least <see cref="NetworkOptions.MinDistinctContents"/> keys, that candidate groups are built from (tests).</summary>
    internal IEnumerable<(string, string)> StrongPairKeys => _strong.Keys;
    public int RecentCount => _recent.Count;

    /// <summary>Distinct content keys among the recent posts (each holds an id while a recent post carries it).</summary>
    internal int KeyIdCount => _keyIds.Count;
    public IReadOnlyList<Campaign> Campaigns => _campaigns;
    public long GroupsTested { get; private set; }
    public long GroupsRejected { get; private set; }
    public long BurstsReported { get; private set; }

    /// <summary>
    /// Notes that <paramref name="accounts"/> (distinct, at least <see cref="NetworkOptions.BurstMinAccounts"/>) posted
    /// near-duplicates of one novel text (family <paramref name="family"/>) within one interval, in
    /// <paramref name="postIds"/>; reported at the next detection.
    /// </summary>
    public void NoteBurst(int family, IEnumerable<string> accounts, IEnumerable<string> postIds, long timeMs)
    {
        if (!_bursts.TryGetValue(family, out var b)) _bursts.Add(family, b = new Burst());
        foreach (var a in accounts) b.Add(a);
        foreach (var p in postIds) b.PostIds.Add(p);
        b.LastMs = Math.Max(b.LastMs, timeMs);
    }

    public void AddPost(PostRecord r)
    {
        var ids = r.Keys.Length == 0 ? [] : new int[r.Keys.Length];
        for (var i = 0; i < ids.Length; i++) ids[i] = _keyIds.Acquire(r.Keys[i]);
        r.KeyIds = ids;
        _recent.Enqueue(r);
        ref var author = ref CollectionsMarshal.GetValueRefOrAddDefault(_byAuthor, r.Author, out _);
        author ??= new AuthorPosts();
        author.Posts.Enqueue((_postSeq++, r));
        author.Version = ++_version;
        if (!_byPostId.TryAdd(r.PostId, r))
        {
            if (!_repeatedIds.TryGetValue(r.PostId, out var more)) _repeatedIds.Add(r.PostId, more = []);
            more.Add(r);
        }
    }

    private void DequeueRecent()
    {
        var r = _recent.Dequeue();
        foreach (var id in r.KeyIds) _keyIds.Release(id);
        if (_repeatedIds.Count > 0 && _repeatedIds.TryGetValue(r.PostId, out var more))
        {
            // Records of one id leave in the order they came, so the one leaving is the indexed one.
            _byPostId[r.PostId] = more[0];
            more.RemoveAt(0);
            if (more.Count == 0) _repeatedIds.Remove(r.PostId);
        }
        else _byPostId.Remove(r.PostId);
        // Each author's queue is the global queue restricted to that author, so its head is this record.
        if (_byAuthor.TryGetValue(r.Author, out var author) && author.Posts.Count > 0 && ReferenceEquals(author.Posts.Peek().Post, r))
        {
            author.Posts.Dequeue();
            if (author.Posts.Count == 0) _byAuthor.Remove(r.Author);
            else author.Version = ++_version;
        }
    }

    public void AddCoShare(in CoShare c)
    {
        var hash = PairHash(c.HashA, c.HashB);
        var slot = FindPair(c.AccountA, c.AccountB, hash);
        if (slot < 0)
            slot = NewPair(string.CompareOrdinal(c.AccountA, c.AccountB) < 0 ? (c.AccountA, c.AccountB) : (c.AccountB, c.AccountA), hash);
        ref var p = ref _pairSlots[slot];
        if (p.TryAddKey(c.Key) && p.KeyCount >= _o.MinDistinctContents && _strong.Add((p.A, p.B))) _strongVersion++;
        Touch(slot, Math.Max(c.TimeA, c.TimeB));
        if (_pairCount > 2 * _o.MaxPairs) PrunePairs(long.MinValue);
    }

    /// <summary>The hash of the pair of accounts with hashes <paramref name="a"/> and <paramref name="b"/>, in either order.</summary>
    internal static int PairHash(int a, int b)
    {
        var lo = (uint)Math.Min(a, b);
        var hi = (uint)Math.Max(a, b);
        return (int)((((ulong)hi << 32) | lo) * 0x9E3779B97F4A7C15UL >> 32);
    }

    /// <summary>The slot of the pair of <paramref name="a"/> and <paramref name="b"/> (either order), or -1.</summary>
    private int FindPair(string a, string b, int hash)
    {
        for (var s = _pairHeads[hash & (_pairHeads.Length - 1)] - 1; s >= 0; s = _pairSlots[s].Next - 1)
        {
            ref readonly var p = ref _pairSlots[s];
            // Account ids are mostly the same string objects (the graph's), so == returns at the reference check.
            if (p.Hash == hash && ((p.A == a && p.B == b) || (p.A == b && p.B == a))) return s;
        }
        return -1;
    }

    private void LinkPair(int slot)
    {
        ref var p = ref _pairSlots[slot];
        ref var head = ref _pairHeads[p.Hash & (_pairHeads.Length - 1)];
        p.Next = head;
        head = slot + 1;
        _pairCount++;
    }

    private void UnlinkPair(int slot)
    {
        ref var link = ref _pairHeads[_pairSlots[slot].Hash & (_pairHeads.Length - 1)];
        while (link != slot + 1) link = ref _pairSlots[link - 1].Next;
        link = _pairSlots[slot].Next;
        _pairCount--;
    }

    private void GrowPairHeads()
    {
        var heads = new int[_pairHeads.Length * 2];
        var mask = heads.Length - 1;
        for (var slot = 0; slot < _usedPairSlots; slot++)
        {
            ref var p = ref _pairSlots[slot];
            if (p.Seq < 0) continue;
            ref var head = ref heads[p.Hash & mask];
            p.Next = head;
            head = slot + 1;
        }
        _pairHeads = heads;
    }

    /// <summary>Runs detection over the horizon ending at <paramref name="nowMs"/>; appends new or updated campaign signals.</summary>
    public void Detect(long nowMs, List<Signal> output)
    {
        var cutoff = nowMs - _horizonMs;
        while (_recent.Count > 0 && _recent.Peek().TimeMs < cutoff) DequeueRecent();
        PrunePairs(cutoff);
        _campaigns.RemoveAll(c => c.EndMs < cutoff);
        if (_groupsVersion != _strongVersion)
        {
            _groups = CandidateGroups();
            _groupsVersion = _strongVersion;
        }
        var evaluated = new Dictionary<string, (long[] Versions, GroupResult? Result)>(_groups.Count, StringComparer.Ordinal);
        var deferLarge = _o.LargeGroupAccounts > 0 && LastLargeGroupMs != long.MinValue && nowMs - LastLargeGroupMs < (long)_o.LargeGroupInterval.TotalMilliseconds;
        var anyLarge = false;
        foreach (var group in _groups)
        {
            if (_o.LargeGroupAccounts > 0 && group.Count > _o.LargeGroupAccounts)
            {
                // Not due yet: evaluated (and reported) at the next large-group detection instead.
                if (deferLarge)
                {
                    LargeGroupsDeferred++;
                    continue;
                }
                anyLarge = true;
            }
            GroupsTested++;
            var result = EvaluateCached(group, evaluated);
            if (result is null)
            {
                GroupsRejected++;
                continue;
            }
            Report(result, output);
        }
        _evaluated = evaluated;
        if (anyLarge) LastLargeGroupMs = nowMs;
        // Single-wave bursts, in family order (families are numbered in stream order).
        if (_bursts.Count == 0) return;
        foreach (var key in _bursts.Keys.ToList())
        {
            var b = _bursts[key];
            if (b.Accounts.Count > b.Reported && EvaluateBurst(b) is { } result)
            {
                BurstsReported++;
                Report(result, output);
            }
            b.Reported = b.Accounts.Count;
            if (b.LastMs < nowMs - _intervalMs) _bursts.Remove(key);
        }
    }

    /// <summary>
    /// <see cref="Evaluate"/>, or the result of the group's last evaluation when none of its members' posts changed
    /// since (Evaluate reads nothing else that changes); the groups evaluated now are kept for the next run.
    /// </summary>
    private GroupResult? EvaluateCached(List<string> group, Dictionary<string, (long[] Versions, GroupResult? Result)> evaluated)
    {
        var key = string.Join('\n', group);
        var versions = new long[group.Count];
        for (var i = 0; i < group.Count; i++) versions[i] = _byAuthor.TryGetValue(group[i], out var author) ? author.Version : 0;
        if (!_o.ReuseGroupEvaluations || !_evaluated.TryGetValue(key, out var last) || !last.Versions.AsSpan().SequenceEqual(versions))
        {
            GroupsEvaluated++;
            last = (versions, Evaluate(group));
        }
        evaluated[key] = last;
        return last.Result;
    }

    /// <summary>Event time of the last detection that evaluated groups above <see cref="NetworkOptions.LargeGroupAccounts"/> (saved with the state).</summary>
    internal long LastLargeGroupMs { get; set; } = long.MinValue;

    /// <summary>Large groups skipped at a detection because their <see cref="NetworkOptions.LargeGroupInterval"/> had not passed.</summary>
    internal long LargeGroupsDeferred { get; private set; }

    /// <summary>Group evaluations that could not reuse an earlier result (tests check that the cache is used and invalidated).</summary>
    internal long GroupsEvaluated { get; private set; }

    private GroupResult? EvaluateBurst(Burst b)
    {
        if (b.Accounts.Count < Math.Max(_o.MinGroupSize, _o.BurstMinAccounts)) return null;
        // The burst's posts still among the recent posts, by an account of the burst.
        var posts = new List<PostRecord>(b.PostIds.Count);
        var repeated = _repeatedIds.Count > 0;
        foreach (var id in b.PostIds)
        {
            if (!_byPostId.TryGetValue(id, out var r)) continue;
            if (b.Contains(r.Author)) posts.Add(r);
            if (repeated && _repeatedIds.TryGetValue(id, out var more))
                foreach (var m in more) if (b.Contains(m.Author)) posts.Add(m);
        }
        if (posts.Count == 0) return null;
        posts.Sort((x, y) => x.TimeMs != y.TimeMs ? x.TimeMs.CompareTo(y.TimeMs) : string.CompareOrdinal(x.PostId, y.PostId));
        var accounts = b.Accounts.ToList();
        var score = Statistics.PoissonTailScore(accounts.Count, _o.BurstBaseline);
        return new GroupResult(accounts, posts, posts[0].TimeMs, posts[^1].TimeMs, accounts.Count, _o.BurstBaseline, _o.BurstBaseline, score);
    }

    /// <summary>A free slot holding a new pair of <paramref name="key"/>'s accounts (in ordinal order), with no keys yet, in the table.</summary>
    private int NewPair((string, string) key, int hash)
    {
        // Grown before the new slot is taken: the rehash links every live slot, and the new one is linked below.
        if (_pairCount >= _pairHeads.Length) GrowPairHeads();
        if (!_freePairSlots.TryPop(out var slot))
        {
            if (_usedPairSlots == _pairSlots.Length) Array.Resize(ref _pairSlots, _pairSlots.Length * 2);
            slot = _usedPairSlots++;
        }
        _pairSlots[slot] = new PairSlot { A = key.Item1, B = key.Item2, Seq = _pairSeq++, Hash = hash };
        LinkPair(slot);
        return slot;
    }

    private void Touch(int slot, long timeMs)
    {
        ref var p = ref _pairSlots[slot];
        p.LastMs = Math.Max(p.LastMs, timeMs);
        if (p.Queued) return;
        p.Queued = true;
        AddExpiry(slot, p.LastMs);
    }

    private void AddExpiry(int slot, long timeMs)
    {
        ref var p = ref _pairSlots[slot];
        p.ExpiryMs = timeMs;
        var bucket = ExpiryBucket(timeMs);
        if (!_expiryBuckets.TryGetValue(bucket, out var list))
        {
            _expiryBuckets.Add(bucket, list = _freeBuckets.TryPop(out var free) ? free : []);
            _expiryOrder.Enqueue(bucket, bucket);
        }
        list.Add(new PairRef(slot, p.Seq));
    }

    private static long ExpiryBucket(long timeMs) => timeMs >= 0 ? timeMs / ExpiryBucketMs : ((timeMs + 1) / ExpiryBucketMs) - 1;

    private void ReleaseBucket(List<PairRef> list)
    {
        list.Clear();
        if (_freeBuckets.Count < 16) _freeBuckets.Push(list);
    }

    /// <summary>Entries in the expiry buckets, stale ones included (tests).</summary>
    internal int ExpiryEntryCount
    {
        get
        {
            var n = 0;
            foreach (var list in _expiryBuckets.Values) n += list.Count;
            return n;
        }
    }

    private void RebuildExpiry()
    {
        _staleExpiry = 0;
        foreach (var list in _expiryBuckets.Values) ReleaseBucket(list);
        _expiryBuckets.Clear();
        _expiryOrder.Clear();
        for (var slot = 0; slot < _usedPairSlots; slot++)
        {
            if (_pairSlots[slot].Seq < 0) continue;
            _pairSlots[slot].Queued = true;
            AddExpiry(slot, _pairSlots[slot].LastMs);
        }
    }

    private void RemovePair(int slot)
    {
        UnlinkPair(slot);
        ref var p = ref _pairSlots[slot];
        // A pair is strong exactly when it holds MinDistinctContents keys (AddCoShare, LoadState). Most are not, and
        // for those the strong set is not searched (a hash of both account ids).
        if (p.KeyCount >= _o.MinDistinctContents && _strong.Remove((p.A, p.B))) _strongVersion++;
        // Its expiry entry is stale from now on (the slot's next pair has another creation number).
        p = new PairSlot { Seq = -1 };
        _freePairSlots.Push(slot);
    }

    private const int PrefetchAhead = 8;

    // A hint only: should the collector move the array in between, a stale address is fetched for nothing.
    private unsafe void Prefetch(int slot) => Sse.Prefetch0(Unsafe.AsPointer(ref _pairSlots[slot]));

    private void PrunePairs(long cutoff)
    {
        // Every pair has one entry, at or before its LastMs: the entry of every pair idle since before the cutoff is due.
        _dueAgain.Clear();
        while (_expiryOrder.TryPeek(out var bucket, out _) && bucket * ExpiryBucketMs < cutoff)
        {
            var list = _expiryBuckets[bucket];
            var entries = CollectionsMarshal.AsSpan(list);
            var kept = 0;
            for (var i = 0; i < entries.Length; i++)
            {
                // The entries name slots all over an array of up to millions: each read is a cache miss, so the slot
                // a few entries ahead is fetched while this one is handled.
                if (Sse.IsSupported && i + PrefetchAhead < entries.Length) Prefetch(entries[i + PrefetchAhead].Slot);
                var entry = entries[i];
                ref readonly var p = ref _pairSlots[entry.Slot];
                // The entry of a pair the bound removed (its slot and its key may belong to a new pair by now).
                if (p.Seq != entry.Seq)
                {
                    _staleExpiry--;
                    continue;
                }
                if (p.ExpiryMs >= cutoff) entries[kept++] = entry; // only in the bucket the cutoff falls in
                else if (p.LastMs < cutoff) RemovePair(entry.Slot);
                else _dueAgain.Add(entry.Slot); // active since its entry was made: due again at its last co-share
            }
            list.RemoveRange(kept, list.Count - kept);
            if (kept > 0) break; // the cutoff's bucket: every later bucket is at or after the cutoff
            _expiryOrder.Dequeue();
            _expiryBuckets.Remove(bucket);
            ReleaseBucket(list);
        }
        foreach (var slot in _dueAgain) AddExpiry(slot, _pairSlots[slot].LastMs);
        if (_pairCount <= _o.MaxPairs) return;
        // The removed pairs' entries stay in their buckets, stale (their slots' creation numbers moved on), until those
        // come due (within the horizon), unless they come to outnumber the pairs left.
        var excess = _pairCount - _o.MaxPairs;
        RemoveLeastRecentPairs(excess);
        _staleExpiry += excess;
        if (_staleExpiry > _pairCount) RebuildExpiry();
    }

    /// <summary>
    /// Over the bound: removes the <paramref name="excess"/> pairs first in (last active time, first account, second
    /// account) order, keeping the most recently active. The last removed time T is selected from the times alone;
    /// every pair before T goes, and of the pairs at exactly T the first in ordinal account order. The same pairs as
    /// sorting them all by the three keys, without ordering up to a million string pairs (or the key arrays LINQ's
    /// OrderBy/ThenBy built on the large-object heap each time, which started full collections). Pooled arrays.
    /// </summary>
    private void RemoveLeastRecentPairs(int excess)
    {
        var n = _pairCount;
        var timesArray = WindowArrayPool<long>.Shared.Rent(n);
        var slotsArray = WindowArrayPool<int>.Shared.Rent(n);
        try
        {
            var times = timesArray.AsSpan(0, n);
            var i = 0;
            for (var slot = 0; slot < _usedPairSlots; slot++)
                if (_pairSlots[slot].Seq >= 0) times[i++] = _pairSlots[slot].LastMs;
            // The last removed time, and how many pairs are strictly before it: a selection and a count, not a sort of
            // every pair's time (up to a million, at each detection over the bound).
            var last = Selection.Nth(times, excess - 1);
            var before = 0;
            foreach (var t in times) if (t < last) before++;
            var removed = 0;
            var tied = 0;
            for (var slot = 0; slot < _usedPairSlots; slot++)
            {
                ref readonly var p = ref _pairSlots[slot];
                if (p.Seq < 0) continue;
                if (p.LastMs < last) slotsArray[removed++] = slot;
                else if (p.LastMs == last) slotsArray[n - 1 - tied++] = slot; // ties collected from the end
            }
            var ties = slotsArray.AsSpan(n - tied, tied);
            ties.Sort(new SlotOrder(_pairSlots));
            var fromTies = excess - before;
            foreach (var slot in slotsArray.AsSpan(0, removed)) RemovePair(slot);
            foreach (var slot in ties[..fromTies]) RemovePair(slot);
        }
        finally
        {
            WindowArrayPool<long>.Shared.Return(timesArray);
            WindowArrayPool<int>.Shared.Return(slotsArray);
        }
    }

    /// <summary>Components of the k-core of the repeated-co-share graph, each sorted, in a deterministic order.</summary>
    private List<List<string>> CandidateGroups()
    {
        var groups = new List<List<string>>();
        if (_strong.Count == 0) return groups;
        // Rebuilt at most once per detection over up to hundreds of thousands of strong pairs: the working arrays are
        // kept between calls (fresh ones of this size were large objects each time, and started full collections).
        var w = _groupWork;
        // Vertices are the strong pairs' persistent account numbers (free numbers are isolated vertices, peeled at
        // once); only the surviving components are sorted below (the k-core and the components do not depend on the
        // numbering).
        var arcs = 2 * _strong.Count;
        w.EnsureArcs(arcs);
        var ends = w.Ends;
        var j = 0;
        foreach (var (a, b) in _strong.Vertices)
        {
            ends[j++] = a;
            ends[j++] = b;
        }
        var n = _strong.VertexBound;
        w.Ensure(n);
        // Adjacency in compressed rows, each row in the order the pairs are enumerated (pairs are unique).
        var start = w.Start;
        var degree = w.Degree;
        Array.Clear(degree, 0, n);
        for (var e = 0; e < arcs; e++) degree[ends[e]]++;
        start[0] = 0;
        for (var v = 0; v < n; v++) start[v + 1] = start[v] + degree[v];
        var fill = w.Fill;
        Array.Copy(start, fill, n);
        var adj = w.Adjacent;
        for (var e = 0; e < arcs; e += 2)
        {
            int x = ends[e], y = ends[e + 1];
            adj[fill[x]++] = y;
            adj[fill[y]++] = x;
        }
        // k-core peeling: chance pairings rarely give an account several repeated partners.
        var k = Math.Max(1, _o.MinPartners);
        var removed = w.Removed;
        var seen = w.Seen;
        Array.Clear(removed, 0, n);
        Array.Clear(seen, 0, n);
        var queue = w.Queue;
        queue.Clear();
        for (var v = 0; v < n; v++)
            if (degree[v] < k) queue.Enqueue(v);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            if (removed[v]) continue;
            removed[v] = true;
            for (var e = start[v]; e < start[v + 1]; e++)
            {
                var u = adj[e];
                if (removed[u]) continue;
                if (--degree[u] < k) queue.Enqueue(u);
            }
        }
        var stack = w.Stack;
        var comp = w.Component;
        for (var first = 0; first < n; first++)
        {
            if (removed[first] || seen[first]) continue;
            seen[first] = true;
            comp.Clear();
            stack.Push(first);
            while (stack.Count > 0)
            {
                var v = stack.Pop();
                comp.Add(v);
                for (var e = start[v]; e < start[v + 1]; e++)
                {
                    var u = adj[e];
                    if (removed[u] || seen[u]) continue;
                    seen[u] = true;
                    stack.Push(u);
                }
            }
            if (comp.Count < _o.MinGroupSize) continue;
            var members = comp.ConvertAll(v => _strong.Name(v)!);
            members.Sort(StringComparer.Ordinal);
            groups.Add(members);
        }
        // Components are disjoint, so their smallest accounts differ: groups in the order of their first account.
        groups.Sort(static (x, y) => string.CompareOrdinal(x[0], y[0]));
        return groups;
    }

    private readonly GroupWork _groupWork = new();

    /// <summary>The working storage of <see cref="CandidateGroups"/>, grown as needed and reused.</summary>
    private sealed class GroupWork
    {
        public int[] Start { get; private set; } = [];
        public int[] Fill { get; private set; } = [];
        public int[] Degree { get; private set; } = [];
        public bool[] Removed { get; private set; } = [];
        public bool[] Seen { get; private set; } = [];
        public int[] Adjacent { get; private set; } = [];
        /// <summary>Each strong pair's two vertex numbers, in enumeration order.</summary>
        public int[] Ends { get; private set; } = [];
        public Queue<int> Queue { get; } = new();
        public Stack<int> Stack { get; } = new();
        public List<int> Component { get; } = [];

        public void Ensure(int vertices)
        {
            if (Degree.Length >= vertices) return;
            var size = Math.Max(vertices, Degree.Length * 2);
            Start = new int[size + 1];
            Fill = new int[size];
            Degree = new int[size];
            Removed = new bool[size];
            Seen = new bool[size];
        }

        public void EnsureArcs(int arcs)
        {
            if (Adjacent.Length >= arcs) return;
            var size = Math.Max(arcs, Adjacent.Length * 2);
            Adjacent = new int[size];
            Ends = new int[size];
        }
    }

    internal sealed record GroupResult(
        List<string> Accounts, List<PostRecord> Posts, long StartMs, long EndMs, long Observed, double Expected,
        double ExpectedAccounts, double Score);

    private readonly SynchronyCounter _synchrony;

    /// <summary>
    /// The working storage of <see cref="Evaluate"/>, reused from group to group (fresh arrays, dictionaries and lists
    /// per evaluation were about half a gigabyte over a 1M-post run: 2026-12-07 allocation ticks). Nothing in it
    /// outlives an evaluation: results copy what they keep.
    /// </summary>
    private sealed class EvaluationWork
    {
        /// <summary>Per content key id, the list of the group's posts carrying it (null when none); ids touched in <see cref="Touched"/>.</summary>
        public List<int>?[] ByKey { get; private set; } = [];
        public List<int> Touched { get; } = [];
        public List<List<int>> KeyLists { get; } = [];
        private readonly Stack<List<int>> _freeLists = new();
        public long[] Seqs { get; private set; } = [];
        /// <summary>The group's posts with their account's position in the group, while they are put in stream order.</summary>
        public (PostRecord Post, int Author)[] Items { get; private set; } = [];
        public PostRecord[] Posts { get; private set; } = [];
        public long[] Times { get; private set; } = [];
        public int[] Authors { get; private set; } = [];
        public bool[] Synced { get; private set; } = [];
        public long[] Observed { get; private set; } = [];
        public long[] Null { get; private set; } = [];
        public long[][] PerRound { get; private set; } = [];

        /// <summary>Sizes the arrays for <paramref name="posts"/> posts by <paramref name="accounts"/> accounts and clears the per-account counts.</summary>
        public void Ensure(int posts, int accounts, int rounds, int keyIds)
        {
            if (ByKey.Length < keyIds) ByKey = new List<int>?[Math.Max(keyIds, ByKey.Length * 2)];
            if (Seqs.Length < posts)
            {
                var size = Math.Max(posts, Seqs.Length * 2);
                Seqs = new long[size];
                Items = new (PostRecord, int)[size];
                Posts = new PostRecord[size];
                Times = new long[size];
                Authors = new int[size];
                Synced = new bool[size];
            }
            if (Observed.Length < accounts || PerRound.Length != rounds)
            {
                var size = Math.Max(accounts, Observed.Length * 2);
                Observed = new long[size];
                Null = new long[size];
                PerRound = new long[rounds][];
                for (var r = 0; r < rounds; r++) PerRound[r] = new long[size];
            }
            Array.Clear(Observed, 0, accounts);
            Array.Clear(Null, 0, accounts);
            foreach (var counts in PerRound) Array.Clear(counts, 0, accounts);
        }

        public List<int> RentList() => _freeLists.TryPop(out var l) ? l : [];

        /// <summary>Returns the key lists and clears the post references (so no post is kept alive).</summary>
        public void Release(int posts)
        {
            foreach (var id in Touched)
            {
                var l = ByKey[id]!;
                ByKey[id] = null;
                l.Clear();
                if (l.Capacity <= 1024) _freeLists.Push(l);
            }
            Touched.Clear();
            KeyLists.Clear();
            Array.Clear(Items, 0, posts);
            Array.Clear(Posts, 0, posts);
        }
    }

    private readonly EvaluationWork _evaluation = new();

    private GroupResult? Evaluate(List<string> group)
    {
        var w = _evaluation;
        var total = 0;
        foreach (var a in group) if (_byAuthor.TryGetValue(a, out var author)) total += author.Posts.Count;
        w.Ensure(total, group.Count, _o.ShuffleRounds, _keyIds.Bound);
        try
        {
            return EvaluateWith(group, total, w);
        }
        finally { w.Release(total); }
    }

    private GroupResult? EvaluateWith(List<string> group, int total, EvaluationWork w)
    {
        // The group's recent posts in stream order (as a filter of the recent queue would give them), each with its
        // account's position in the group (the queue it came from), so no account id is looked up again.
        var seqs = w.Seqs;
        var items = w.Items;
        var at = 0;
        for (var a = 0; a < group.Count; a++)
        {
            if (!_byAuthor.TryGetValue(group[a], out var author)) continue;
            foreach (var (seq, r) in author.Posts)
            {
                seqs[at] = seq;
                items[at++] = (r, a);
            }
        }
        // Sequence numbers are unique, so a primitive key sort gives the one stream order.
        seqs.AsSpan(0, total).Sort(items.AsSpan(0, total));

        if (total < 2) return null;
        var posts = w.Posts;
        var authors = w.Authors;
        var times = w.Times;
        for (var i = 0; i < total; i++)
        {
            var (r, a) = items[i];
            posts[i] = r;
            authors[i] = a;
            times[i] = r.TimeMs;
        }
        // Posts by content key (ids, not strings), keys in order of first appearance; that order does not matter:
        // the counts below are sums over keys.
        var byKey = w.ByKey;
        var touched = w.Touched;
        for (var i = 0; i < total; i++)
        {
            foreach (var id in posts[i].KeyIds)
            {
                ref var l = ref byKey[id];
                if (l is null)
                {
                    l = w.RentList();
                    touched.Add(id);
                }
                l.Add(i);
            }
        }
        var keyLists = w.KeyLists;
        foreach (var id in touched) if (byKey[id]!.Count > 1) keyLists.Add(byKey[id]!);
        var work = _synchrony;
        work.Prepare(keyLists, total, times, group.Count);

        var obsPerAccount = w.Observed;
        var syncedPost = w.Synced;
        Array.Clear(syncedPost, 0, total);
        // Observed: every post at its own time.
        var perm = work.Permutation;
        var observed = work.Count(authors, obsPerAccount, syncedPost);

        // Seeded from the group's first post in stream order, not from an account id: pseudonymised ids change with the
        // deployment's key, and the same stream must give the same campaigns under any key.
        var rng = new SplitMix64(_o.Seed ^ Hashing.Stable(posts[0].PostId) ^ (ulong)group.Count);
        var nullPerAccount = w.Null;
        var perRound = w.PerRound;
        double nullPairs = 0;
        for (var round = 0; round < _o.ShuffleRounds; round++)
        {
            // The times shuffled among the posts (each round shuffles the last round's assignment further): post i
            // now has the time of post perm[i].
            for (var i = perm.Length - 1; i > 0; i--)
            {
                var j = rng.NextInt(i + 1);
                (perm[i], perm[j]) = (perm[j], perm[i]);
            }
            var counts = perRound[round];
            nullPairs += work.Count(authors, counts, null);
            for (var a = 0; a < group.Count; a++) nullPerAccount[a] += counts[a];
        }
        bool Passes(long count, int a) =>
            count >= _o.MinDistinctContents && count >= _o.MinRatio * Math.Max((double)nullPerAccount[a] / _o.ShuffleRounds, 0.5);
        // Baseline in the same unit as the observation: accounts that would pass the per-account test by chance.
        double nullAccounts = 0;
        foreach (var counts in perRound)
            for (var a = 0; a < group.Count; a++) if (Passes(counts[a], a)) nullAccounts++;
        var expected = nullPairs / _o.ShuffleRounds;
        var expectedAccounts = nullAccounts / _o.ShuffleRounds;
        var lambda = Math.Max(expected, 0.5);
        var score = Statistics.PoissonTailScore(observed, lambda);
        if (observed / lambda < _o.MinRatio || score < _o.MinScore) return null;

        // Keep only accounts whose own synchrony beats their own shuffled baseline.
        var keep = new List<string>();
        var keepIdx = new HashSet<int>();
        for (var a = 0; a < group.Count; a++)
        {
            if (!Passes(obsPerAccount[a], a)) continue;
            keep.Add(group[a]);
            keepIdx.Add(a);
        }
        if (keep.Count < _o.MinGroupSize) return null;
        var evidence = new List<PostRecord>();
        for (var i = 0; i < total; i++) if (syncedPost[i] && keepIdx.Contains(authors[i])) evidence.Add(posts[i]);
        if (evidence.Count == 0) return null;
        evidence.Sort((x, y) => x.TimeMs != y.TimeMs ? x.TimeMs.CompareTo(y.TimeMs) : string.CompareOrdinal(x.PostId, y.PostId));
        return new GroupResult(keep, evidence, evidence[0].TimeMs, evidence[^1].TimeMs, observed, expected, expectedAccounts, score);
    }

    private void Report(GroupResult g, List<Signal> output)
    {
        Campaign? best = null;
        var bestOverlap = 0.0;
        var bestShared = 0;
        foreach (var c in _campaigns)
        {
            var inter = SharedCount(g.Accounts, c.Accounts);
            var overlap = (double)inter / Math.Min(g.Accounts.Count, c.Accounts.Count);
            if (overlap > bestOverlap)
            {
                bestOverlap = overlap;
                best = c;
                bestShared = inter;
            }
        }
        var changed = false;
        if (best is null || bestOverlap < 0.5)
        {
            best = new Campaign { Id = _nextCampaign++, StartMs = g.StartMs, Scope = ScopeOf(g.Posts) };
            best.EndMs = g.EndMs;
            _campaigns.Add(best);
            changed = true;
        }
        // A campaign that already holds every account of the group gains none (the common case of a re-report).
        if (bestShared < g.Accounts.Count)
            foreach (var a in g.Accounts) changed |= best.Accounts.Add(a);
        foreach (var p in g.Posts)
        {
            if (best.PostIds.Count >= _o.MaxEvidencePosts) break;
            if (!best.PostSet.Add(p.PostId)) continue;
            best.PostIds.Add(p.PostId);
            if (p.Incitement) best.IncitementPosts++;
            changed = true;
        }
        if (g.EndMs > best.EndMs)
        {
            best.EndMs = g.EndMs;
            changed = true;
        }
        best.Score = Math.Max(best.Score, g.Score);
        best.Baseline = g.ExpectedAccounts;
        foreach (var p in g.Posts) best.Reach = Math.Max(best.Reach, p.Followers);
        best.TopTerms = TopTerms(g.Posts, 5, _termCounts);
        if (changed) output.Add(ToSignal(best));
    }

    /// <summary>
    /// How many accounts of <paramref name="sorted"/> (distinct, in ordinal order, as every group's accounts are) the
    /// campaign's set holds: one merge pass over both when they are of similar size, a lookup per account when the set
    /// is much larger.
    /// </summary>
    internal static int SharedCount(List<string> sorted, SortedSet<string> set)
    {
        var n = 0;
        if (set.Count == 0 || sorted.Count == 0) return 0;
        if ((long)sorted.Count * 16 < set.Count)
        {
            foreach (var a in sorted) if (set.Contains(a)) n++;
            return n;
        }
        var i = 0;
        foreach (var b in set)
        {
            int c;
            while (i < sorted.Count && (c = string.CompareOrdinal(sorted[i], b)) <= 0)
            {
                if (c == 0) n++;
                i++;
            }
            if (i == sorted.Count) break;
        }
        return n;
    }

    private readonly Dictionary<string, int> _termCounts = new(StringComparer.Ordinal);

    /// <summary>
    /// The <paramref name="k"/> hashtags most used in <paramref name="posts"/>, most used first, ties in ordinal order
    /// (<paramref name="counts"/> is working storage, cleared first).
    /// </summary>
    internal static List<string> TopTerms(List<PostRecord> posts, int k, Dictionary<string, int> counts)
    {
        counts.Clear();
        foreach (var p in posts)
            foreach (var h in p.Hashtags)
                CollectionsMarshal.GetValueRefOrAddDefault(counts, h, out _)++;
        var top = new List<(string Term, int Count)>(k + 1);
        foreach (var (term, count) in counts)
        {
            // Insertion into the k best so far: higher count first, then ordinal.
            var at = top.Count;
            while (at > 0 && (top[at - 1].Count < count || (top[at - 1].Count == count && string.CompareOrdinal(top[at - 1].Term, term) > 0))) at--;
            if (at >= k) continue;
            top.Insert(at, (term, count));
            if (top.Count > k) top.RemoveAt(k);
        }
        var terms = new List<string>(top.Count);
        foreach (var (term, _) in top) terms.Add(term);
        return terms;
    }

    internal static Signal ToSignal(Campaign c) => new()
    {
        Kind = AlertKinds.CoordinatedCampaign,
        Scope = c.Scope,
        WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(c.StartMs),
        WindowEnd = DateTimeOffset.FromUnixTimeMilliseconds(c.EndMs),
        Score = c.Score,
        Baseline = c.Baseline,
        Observed = c.Accounts.Count,
        Reach = c.Reach,
        IncitementShare = c.PostIds.Count == 0 ? 0 : (double)c.IncitementPosts / c.PostIds.Count,
        Evidence = new Evidence { Accounts = [.. c.Accounts], PostIds = [.. c.PostIds], TopTerms = [.. c.TopTerms] },
        Detector = "network.coordination",
    };

    private static Scope ScopeOf(List<PostRecord> posts) => new(
        Plurality(posts.Select(p => p.Country)),
        Plurality(posts.Select(p => p.Region)),
        Plurality(posts.Select(p => p.Target)));

    private static string? Plurality(IEnumerable<string?> values) => values.Where(v => !string.IsNullOrEmpty(v))
        .GroupBy(v => v!, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => g.Key).FirstOrDefault();

    /// <summary>
    /// Recent posts (immutable records) and account pairs are copied at capture and encoded later, pairs in ordinal
    /// order of their accounts; campaigns (few) are encoded at capture. Then <see cref="WriteBursts"/>.
    /// </summary>
    internal void Capture(StateCapture c)
    {
        var recent = _recent.ToArray();
        // Pairs as flat copies: a pair's keys only ever grow, but the copy must not see later ones. Pooled arrays (up
        // to a million pairs at every checkpoint), returned once written; those holding strings are cleared then.
        var pairCount = _pairCount;
        var pairKeys = WindowArrayPool<(string, string)>.Shared.Rent(pairCount);
        var pairLast = WindowArrayPool<long>.Shared.Rent(pairCount);
        var keyEnd = WindowArrayPool<int>.Shared.Rent(pairCount);
        var keyCount = 0;
        for (var slot = 0; slot < _usedPairSlots; slot++)
            if (_pairSlots[slot].Seq >= 0) keyCount += _pairSlots[slot].KeyCount;
        var keys = WindowArrayPool<string>.Shared.Rent(keyCount);
        var i = 0;
        keyCount = 0;
        for (var slot = 0; slot < _usedPairSlots; slot++)
        {
            ref readonly var p = ref _pairSlots[slot];
            if (p.Seq < 0) continue;
            pairKeys[i] = (p.A, p.B);
            pairLast[i] = p.LastMs;
            p.CopyKeysTo(keys, keyCount);
            keyCount += p.KeyCount;
            keyEnd[i++] = keyCount;
        }
        c.Later(w =>
        {
            try
            {
                WriteRecent(w, recent);
                WritePairs(w, pairKeys.AsSpan(0, pairCount), pairLast, keyEnd, keys);
            }
            finally
            {
                WindowArrayPool<(string, string)>.Shared.Return(pairKeys, clearArray: true);
                WindowArrayPool<long>.Shared.Return(pairLast);
                WindowArrayPool<int>.Shared.Return(keyEnd);
                WindowArrayPool<string>.Shared.Return(keys, clearArray: true);
            }
        });
        WriteCampaigns(c.Now);
    }

    private static void WriteRecent(BinaryWriter w, PostRecord[] recent)
    {
        w.Write(recent.Length);
        foreach (var r in recent)
        {
            w.Write(r.PostId);
            w.Write(r.Author);
            w.Write(r.TimeMs);
            WriteStrings(w, r.Keys);
            w.Write(r.Country ?? "");
            w.Write(r.Region ?? "");
            w.Write(r.Target ?? "");
            w.Write(r.Incitement);
            w.Write(r.Followers);
            WriteStrings(w, r.Hashtags);
        }
    }

    /// <summary>Pair i of <paramref name="pairKeys"/> has last time pairLast[i] and keys keys[keyEnd[i-1]..keyEnd[i]).</summary>
    private static void WritePairs(BinaryWriter w, Span<(string, string)> pairKeys, long[] pairLast, int[] keyEnd, string[] keys)
    {
        // Ordinal order by (first, second) account, sorted on an array (LINQ's OrderBy/ThenBy cost several times more);
        // pairs are distinct, so the order is total and any sort gives the same one.
        var orderArray = WindowArrayPool<int>.Shared.Rent(pairKeys.Length);
        var order = orderArray.AsSpan(0, pairKeys.Length);
        for (var i = 0; i < order.Length; i++) order[i] = i;
        pairKeys.Sort(order, OrdinalPairComparer.Instance);
        w.Write(order.Length);
        for (var i = 0; i < order.Length; i++)
        {
            var (a, b) = pairKeys[i];
            var at = order[i];
            w.Write(a);
            w.Write(b);
            w.Write(pairLast[at]);
            var from = at == 0 ? 0 : keyEnd[at - 1];
            w.Write(keyEnd[at] - from);
            for (var k = from; k < keyEnd[at]; k++) w.Write(keys[k]);
        }
        WindowArrayPool<int>.Shared.Return(orderArray);
    }

    private void WriteCampaigns(BinaryWriter w)
    {
        w.Write(_nextCampaign);
        w.Write(_campaigns.Count);
        foreach (var c in _campaigns)
        {
            w.Write(c.Id);
            w.Write(c.StartMs);
            w.Write(c.EndMs);
            w.Write(c.Scope.Country ?? "");
            w.Write(c.Scope.Region ?? "");
            w.Write(c.Scope.TargetGroup ?? "");
            WriteStrings(w, c.Accounts);
            WriteStrings(w, c.PostIds);
            w.Write(c.Score);
            w.Write(c.Baseline);
            w.Write(c.Reach);
            w.Write(c.IncitementPosts);
            WriteStrings(w, c.TopTerms);
        }
    }

    internal void Read(BinaryReader r)
    {
        static string? N(string s) => s.Length == 0 ? null : s;
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++)
        {
            AddPost(new PostRecord(r.ReadString(), r.ReadString(), r.ReadInt64(), ReadStrings(r), N(r.ReadString()),
                N(r.ReadString()), N(r.ReadString()), r.ReadBoolean(), r.ReadInt32(), ReadStrings(r)));
        }
        var m = r.ReadInt32();
        for (var i = 0; i < m; i++)
        {
            var a = r.ReadString();
            var b = r.ReadString();
            var hash = PairHash(a.GetHashCode(), b.GetHashCode());
            if (FindPair(a, b, hash) >= 0) throw new InvalidDataException("network state: an account pair is listed twice");
            var slot = NewPair((a, b), hash);
            ref var p = ref _pairSlots[slot];
            p.LastMs = r.ReadInt64();
            foreach (var k in ReadStrings(r))
                if (!p.TryAddKey(k)) throw new InvalidDataException("network state: an account pair holds a repeated key or more than " + MaxPairKeys);
            if (p.KeyCount >= _o.MinDistinctContents && _strong.Add((a, b))) _strongVersion++;
        }
        RebuildExpiry();
        _nextCampaign = r.ReadInt32();
        var c = r.ReadInt32();
        for (var i = 0; i < c; i++)
        {
            var camp = new Campaign
            {
                Id = r.ReadInt32(),
                StartMs = r.ReadInt64(),
                EndMs = r.ReadInt64(),
                Scope = new Scope(N(r.ReadString()), N(r.ReadString()), N(r.ReadString())),
            };
            foreach (var a in ReadStrings(r)) camp.Accounts.Add(a);
            foreach (var p in ReadStrings(r))
            {
                camp.PostIds.Add(p);
                camp.PostSet.Add(p);
            }
            camp.Score = r.ReadDouble();
            camp.Baseline = r.ReadDouble();
            camp.Reach = r.ReadInt32();
            camp.IncitementPosts = r.ReadInt32();
            camp.TopTerms = [.. ReadStrings(r)];
            _campaigns.Add(camp);
        }
    }

    internal void WriteBursts(BinaryWriter w)
    {
        w.Write(_bursts.Count);
        foreach (var (key, b) in _bursts)
        {
            w.Write(key);
            w.Write(b.LastMs);
            w.Write(b.Reported);
            WriteStrings(w, b.Accounts);
            WriteStrings(w, b.PostIds);
        }
    }

    internal void ReadBursts(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > 10_000_000) throw new InvalidDataException("network state: bad burst count");
        for (var i = 0; i < n; i++)
        {
            var b = new Burst();
            var key = r.ReadInt32();
            b.LastMs = r.ReadInt64();
            b.Reported = r.ReadInt32();
            foreach (var a in ReadStrings(r)) b.Add(a);
            foreach (var p in ReadStrings(r)) b.PostIds.Add(p);
            _bursts[key] = b;
        }
    }

    /// <summary>Recent post records (for rebuilding the co-share index after a restore).</summary>
    internal IEnumerable<PostRecord> Recent => _recent;

    /// <summary>Pair slots in the order of <see cref="OrdinalPairComparer"/> on their (first, second) accounts.</summary>
    private readonly struct SlotOrder(PairSlot[] slots) : IComparer<int>
    {
        public int Compare(int x, int y) => OrdinalPairComparer.Instance.Compare((slots[x].A, slots[x].B), (slots[y].A, slots[y].B));
    }

    private sealed class OrdinalPairComparer : IComparer<(string, string)>
    {
        public static readonly OrdinalPairComparer Instance = new();

        public int Compare((string, string) x, (string, string) y)
        {
            var c = string.CompareOrdinal(x.Item1, y.Item1);
            return c != 0 ? c : string.CompareOrdinal(x.Item2, y.Item2);
        }
    }

    private static void WriteStrings(BinaryWriter w, ICollection<string> s)
    {
        w.Write(s.Count);
        foreach (var x in s) w.Write(x);
    }

    private static string[] ReadStrings(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n < 0 || n > 10_000_000) throw new InvalidDataException("network state: bad list length");
        var a = new string[n];
        for (var i = 0; i < n; i++) a[i] = r.ReadString();
        return a;
    }
}
