using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.CoSharing;

/// <summary>One co-share: two different accounts posted the same content key within the interval.</summary>
internal readonly record struct CoShare(string Key, string AccountA, string PostA, long TimeA, string AccountB, string PostB, long TimeB);

/// <summary>
/// Finds co-sharing among recent posts: the same URL, the same media hash, or near-duplicate text found with
/// MinHash LSH (bands × rows over the signature, candidates verified by the fraction of equal slots).
/// Near-duplicate texts are grouped into text clusters so that paraphrases that match only some members still
/// share one content key. Everything older than the interval is evicted.
/// </summary>
internal sealed class CoShareIndex
{
    private sealed class Entry(string account, string postId, long time)
    {
        public string Account { get; } = account;
        public string PostId { get; } = postId;
        public long Time { get; } = time;
        public ulong[]? Signature { get; init; }
        public int Cluster { get; init; }
    }

    private readonly long _intervalMs;
    private readonly int _bands;
    private readonly int _rows;
    private readonly double _threshold;
    private readonly int _maxPerKey;
    private readonly Dictionary<string, List<Entry>> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<(long Time, string Key)> _keyQueue = new();
    private readonly Dictionary<ulong, List<Entry>> _bandBuckets = [];
    private readonly Queue<(long Time, ulong Band)> _bandQueue = new();
    private readonly HashSet<Entry> _seen = new(ReferenceEqualityComparer.Instance);
    private int _nextCluster;

    public CoShareIndex(NetworkOptions o)
    {
        _intervalMs = (long)o.CoShareInterval.TotalMilliseconds;
        _bands = o.LshBands;
        _rows = o.LshRows;
        _threshold = o.NearDuplicateJaccard;
        _maxPerKey = o.MaxPostsPerContent;
    }

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
        Entry? best = null;
        var bestSim = -1.0;
        _seen.Clear();
        Span<ulong> bandKeys = stackalloc ulong[_bands];
        for (var b = 0; b < _bands; b++)
        {
            var h = Hashing.Mix((ulong)b + 0x51A7);
            for (var r = 0; r < _rows; r++) h = Hashing.Mix(h ^ signature[(b * _rows) + r]);
            bandKeys[b] = h;
            if (!_bandBuckets.TryGetValue(h, out var list)) continue;
            foreach (var c in list)
            {
                if (timeMs - c.Time > _intervalMs || !_seen.Add(c)) continue;
                var sim = Similarity(signature, c.Signature!);
                // Ties go to the earliest candidate so the choice does not depend on bucket order.
                if (sim > bestSim || (sim == bestSim && best is not null && c.Time < best.Time))
                {
                    bestSim = sim;
                    best = c;
                }
            }
        }
        var cluster = best is not null && bestSim >= _threshold ? best.Cluster : _nextCluster++;
        var entry = new Entry(account, postId, timeMs) { Signature = signature, Cluster = cluster };
        for (var b = 0; b < _bands; b++)
        {
            if (!_bandBuckets.TryGetValue(bandKeys[b], out var list))
            {
                list = [];
                _bandBuckets.Add(bandKeys[b], list);
            }
            list.Add(entry);
            if (list.Count > _maxPerKey) list.RemoveAt(0);
            _bandQueue.Enqueue((timeMs, bandKeys[b]));
        }
        return "t:" + cluster.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Registers a post under a content key and reports its co-shares with earlier posts of other accounts.</summary>
    public void Add(string key, string account, string postId, long timeMs, List<CoShare> output)
    {
        Expire(timeMs);
        if (!_byKey.TryGetValue(key, out var list))
        {
            list = [];
            _byKey.Add(key, list);
        }
        foreach (var e in list)
        {
            if (e.Account == account || Math.Abs(timeMs - e.Time) > _intervalMs) continue;
            output.Add(new CoShare(key, e.Account, e.PostId, e.Time, account, postId, timeMs));
        }
        list.Add(new Entry(account, postId, timeMs));
        if (list.Count > _maxPerKey) list.RemoveAt(0);
        _keyQueue.Enqueue((timeMs, key));
    }

    public static double Similarity(ulong[] a, ulong[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        if (n == 0) return 0;
        var eq = 0;
        for (var i = 0; i < n; i++) if (a[i] == b[i]) eq++;
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
            if (!_byKey.TryGetValue(key, out var list)) continue;
            list.RemoveAll(e => e.Time < cutoff);
            if (list.Count == 0) _byKey.Remove(key);
        }
        while (_bandQueue.Count > 0 && _bandQueue.Peek().Time < cutoff)
        {
            var (_, band) = _bandQueue.Dequeue();
            if (!_bandBuckets.TryGetValue(band, out var list)) continue;
            list.RemoveAll(e => e.Time < cutoff);
            if (list.Count == 0) _bandBuckets.Remove(band);
        }
    }

    public int KeyCount => _byKey.Count + _bandBuckets.Count;
}
