using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EarlyWarning.Network.Matching;

/// <summary>Kind of hash in a list.</summary>
public enum HashType
{
    /// <summary>MD5, 128 bits, 32 hex digits; exact match.</summary>
    Md5,
    /// <summary>SHA-256, 256 bits, 64 hex digits; exact match.</summary>
    Sha256,
    /// <summary>PDQ perceptual hash, 256 bits, 64 hex digits; Hamming-distance match.</summary>
    Pdq,
}

/// <summary>Configuration of one hash list (HMA-style safeguards: per-list threshold, can be disabled, versioned).</summary>
/// <param name="Name">List name as it appears in the CSV's <c>list</c> column.</param>
/// <param name="Type">Hash type of the list's entries (64-hex entries are ambiguous without it).</param>
/// <param name="MaxDistance">PDQ: largest Hamming distance that counts as a match (HMA's default is 31); ignored for exact types.</param>
/// <param name="Enabled">A disabled list is kept loaded but never matches.</param>
/// <param name="Version">Version of the list, carried into every match for review.</param>
public sealed record HashListConfig(string Name, HashType Type, int MaxDistance = 31, bool Enabled = true, string Version = "1");

/// <summary>One match of a media hash against a list entry, kept for review.</summary>
public sealed record HashMatch(string List, string ListVersion, string Label, HashType Type, string EntryHash, int Distance);

/// <summary>A CSV row that could not be loaded, with its reason.</summary>
public sealed record HashListRejection(int Line, string Reason);

/// <summary>Outcome of one query of <see cref="HashListMatcher.MatchPdqMany"/>.</summary>
/// <param name="Valid">False when the query was not 64 hex digits (it was not looked up).</param>
/// <param name="Matches">Matches within each enabled list's distance, in entry order.</param>
public readonly record struct PdqLookup(bool Valid, IReadOnlyList<HashMatch> Matches);

/// <summary>
/// Matches media hashes against known-content hash lists: exact MD5/SHA-256 sets, and PDQ by Hamming distance
/// with multi-index hashing. The 256 bits are split into m chunks (default 16 of 16 bits); by pigeonhole a hash
/// within distance d of the query agrees with it within ⌊d/m⌋ bits on at least one chunk (m chunks each
/// differing in more bits would make the distance at least m(⌊d/m⌋ + 1) &gt; d), so probing each chunk's table
/// with every value that close (radius 1 for HMA's default d ≤ 31: 17 probes per chunk) finds every match.
/// Each chunk's table is the entries sorted by that chunk's value (a counting sort with 2^bits + 1 bucket
/// offsets), stored as parallel arrays: 64 + 32 other bits of each hash and the entry number. The 96 bits bound the
/// distance from below, so almost every candidate is rejected without touching the full hashes; a bucket is
/// scanned 8 slots per AVX-512 step where the CPU has it (a scalar scan otherwise, same results), and survivors are
/// verified against one contiguous array of 4 × 64-bit words per entry. Single lookups software-pipeline their
/// probes with prefetches; <see cref="MatchPdqMany"/> with many queries sorts all their probes by bucket and
/// reads each chunk's table once, in order, for the whole batch.
/// Load lists with <see cref="Configure"/> and <see cref="LoadCsv(TextReader)"/>; matching is thread-safe once
/// loading is done (do not add entries while matching).
/// </summary>
public sealed class HashListMatcher
{
    /// <summary>The built PDQ index: immutable once published.</summary>
    private sealed class PdqIndex(ulong[] hashes, int[] offsets, int[] widths, int[][] start, ulong[][] filterA, uint[][] filterB, int[][] ids)
    {
        public ulong[] Hashes { get; } = hashes; // 4 words per PDQ entry, most significant hex digits first
        public int[] Offsets { get; } = offsets; // per chunk: first bit (0 = most significant)
        public int[] Widths { get; } = widths; // per chunk: bits
        public int[][] Start { get; } = start; // per chunk: 2^width + 1 bucket offsets
        // Per chunk, entries sorted by the chunk's value, as three parallel arrays (structure of arrays): 64 + 32
        // filter bits (the words two and three after the chunk's first word) and the entry number. The filter
        // arrays carry Pad spare elements so a vector load at a bucket's last slot stays inside the array.
        public ulong[][] FilterA { get; } = filterA;
        public uint[][] FilterB { get; } = filterB;
        public int[][] Ids { get; } = ids;
    }

    /// <summary>Spare elements after each filter array (two vectors of 8 slots).</summary>
    private const int Pad = 16;

    private readonly record struct PdqKey(ulong W0, ulong W1, ulong W2, ulong W3, int List);

    private readonly Dictionary<string, HashListConfig> _lists = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _exact = new(StringComparer.Ordinal); // "md5:hex"/"sha256:hex" → exact entries
    private readonly List<(string List, string Label, string Hash)> _exactEntries = [];
    private readonly List<string> _listNames = [];
    private readonly Dictionary<string, int> _listIds = new(StringComparer.Ordinal);
    private readonly List<string> _labels = [];
    private readonly Dictionary<string, int> _labelIds = new(StringComparer.Ordinal);
    private readonly List<ulong> _pdqWords = []; // 4 words per PDQ entry
    private readonly List<int> _pdqList = [];
    private readonly List<int> _pdqLabel = [];
    private readonly HashSet<PdqKey> _pdqSeen = [];
    private readonly object _buildLock = new();
    private volatile PdqIndex? _index;
    private int _entryCount;

    /// <summary>Rows rejected by the loaders, with line and reason.</summary>
    public List<HashListRejection> Rejections { get; } = [];

    /// <summary>Entries accepted so far (duplicates of a PDQ hash in the same list are accepted but indexed once).</summary>
    public int EntryCount => _entryCount;

    /// <summary>Distinct (list, PDQ hash) entries.</summary>
    public int PdqCount => _pdqList.Count;

    /// <summary>The configured lists.</summary>
    public IReadOnlyCollection<HashListConfig> Lists => _lists.Values;

    /// <summary>Threads used by <see cref="Build"/> and <see cref="MatchPdqMany"/> (default: all processors).</summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Bits per chunk of the PDQ multi-index, 16..24 (0 = 16). 16: 16 chunks, radius 1 at distance ≤ 31, 272
    /// probes of about n/65,536 slots each, 4 MB of bucket offsets. Wider chunks (⌊256/bits⌋ of them, radius 2 at
    /// 31) make buckets about one entry long at n ≈ 2^bits but need ~3,000 random probes and 2^bits × 4 B of
    /// offsets per chunk; measured no faster at 10M entries (benchmarks/results/network.md).
    /// </summary>
    public int PdqChunkBits { get; set; }

    /// <summary>
    /// Scan buckets with AVX-512 (8 slots per VPOPCNTQ step) when the CPU has it (<see cref="SimdSupported"/>);
    /// false forces the scalar scan. Both give the same matches.
    /// </summary>
    public bool PdqSimd { get; set; } = true;

    /// <summary>
    /// <see cref="MatchPdqMany"/> with at least this many queries matches them as one batch, bucket by bucket, so each
    /// chunk table is read from memory once per batch instead of once per query (default 2,048; 0 or less = always).
    /// </summary>
    public int PdqBatchMinimum { get; set; } = 2048;

    /// <summary>Adds or replaces a list's configuration (threshold, enabled flag, version).</summary>
    public void Configure(HashListConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.MaxDistance is < 0 or > 128) throw new ArgumentOutOfRangeException(nameof(config), "MaxDistance must be in 0..128");
        _lists[config.Name] = config;
    }

    /// <summary>Loads a CSV file; see <see cref="LoadCsv(TextReader)"/>.</summary>
    public void LoadCsv(string path)
    {
        using var r = new StreamReader(path);
        LoadCsv(r);
    }

    /// <summary>
    /// Loads <c>hash,list,label</c> rows (a header line is skipped). A hash may carry a type prefix
    /// (<c>md5:</c>, <c>sha256:</c>, <c>pdq:</c>); otherwise the list's configured type decides, and an unconfigured
    /// list gets MD5 for 32 hex digits and is rejected as ambiguous for 64. Bad rows are reported in
    /// <see cref="Rejections"/>, never thrown.
    /// </summary>
    public int LoadCsv(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var loaded = 0;
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0 || text.StartsWith('#')) continue;
            var parts = text.Split(',');
            if (line == 1 && parts[0].Trim().Equals("hash", StringComparison.OrdinalIgnoreCase)) continue;
            if (parts.Length < 2)
            {
                Rejections.Add(new(line, "missing_field:list"));
                continue;
            }
            var label = parts.Length >= 3 ? string.Join(',', parts[2..]).Trim() : "";
            var reason = Add(parts[0].Trim(), parts[1].Trim(), label);
            if (reason is null) loaded++;
            else Rejections.Add(new(line, reason));
        }
        return loaded;
    }

    /// <summary>Adds one entry; returns null when added, else the reason it was rejected.</summary>
    public string? Add(string hash, string list, string label)
    {
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(label);
        if (list.Length == 0) return "missing_field:list";
        HashType? type = null;
        var colon = hash.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            type = hash[..colon].ToLowerInvariant() switch
            {
                "md5" => HashType.Md5,
                "sha256" or "sha-256" => HashType.Sha256,
                "pdq" => HashType.Pdq,
                _ => null,
            };
            if (type is null) return "bad_field:hash_type";
            hash = hash[(colon + 1)..];
        }
        var hex = hash.Trim().ToLowerInvariant();
        if (hex.Length == 0 || !IsHex(hex)) return "bad_field:hash";
        if (type is null && _lists.TryGetValue(list, out var cfg)) type = cfg.Type;
        if (type is null)
        {
            if (hex.Length == 32) type = HashType.Md5;
            else return "ambiguous_hash_type";
        }
        var expected = type == HashType.Md5 ? 32 : 64;
        if (hex.Length != expected) return "bad_field:hash_length";
        if (!_lists.ContainsKey(list)) _lists[list] = new HashListConfig(list, type.Value);
        _entryCount++;
        if (type == HashType.Pdq)
        {
            Span<ulong> w = stackalloc ulong[4];
            ParsePdq(hex, w);
            var listId = Intern(list, _listNames, _listIds);
            if (!_pdqSeen.Add(new PdqKey(w[0], w[1], w[2], w[3], listId))) return null;
            foreach (var x in w) _pdqWords.Add(x);
            _pdqList.Add(listId);
            _pdqLabel.Add(Intern(label, _labels, _labelIds));
            _index = null;
        }
        else
        {
            var key = (type == HashType.Md5 ? "md5:" : "sha256:") + hex;
            if (!_exact.TryGetValue(key, out var ids)) _exact[key] = ids = [];
            ids.Add(_exactEntries.Count);
            _exactEntries.Add((list, label, hex));
        }
        return null;
    }

    private static int Intern(string s, List<string> values, Dictionary<string, int> ids)
    {
        if (ids.TryGetValue(s, out var id)) return id;
        ids[s] = values.Count;
        values.Add(s);
        return values.Count - 1;
    }

    /// <summary>Builds the PDQ multi-index now (it is otherwise built on the first PDQ lookup after a change), chunks in parallel.</summary>
    public void Build()
    {
        lock (_buildLock) _index = BuildIndex();
    }

    private PdqIndex BuildIndex()
    {
        var hashes = _pdqWords.ToArray();
        var n = hashes.Length / 4;
        var bits = PdqChunkBits;
        if (bits == 0) bits = 16;
        if (bits is < 16 or > 24) throw new InvalidOperationException("PdqChunkBits must be 0 or 16..24");
        // 256 bits in m = ⌊256 / bits⌋ chunks; the remainder widens the first chunks by one bit each.
        var m = 256 / bits;
        var offsets = new int[m];
        var widths = new int[m];
        for (int c = 0, off = 0; c < m; c++)
        {
            widths[c] = bits + (c < 256 - (m * bits) ? 1 : 0);
            offsets[c] = off;
            off += widths[c];
        }
        var start = new int[m][];
        var filterA = new ulong[m][];
        var filterB = new uint[m][];
        var ids = new int[m][];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, MaxDegreeOfParallelism) }, c =>
        {
            int off = offsets[c], w = widths[c];
            var (wa, wb) = FilterWords(off);
            var size = 1 << w;
            var s = new int[size + 1];
            for (var i = 0; i < n; i++) s[ChunkValue(hashes.AsSpan(i * 4, 4), off, w) + 1]++;
            for (var v = 0; v < size; v++) s[v + 1] += s[v];
            var fill = new int[size];
            Array.Copy(s, fill, size);
            var fa = new ulong[n + Pad];
            var fb = new uint[n + Pad];
            var id = new int[n];
            for (var i = 0; i < n; i++)
            {
                var h = hashes.AsSpan(i * 4, 4);
                var at = fill[ChunkValue(h, off, w)]++;
                fa[at] = h[wa];
                fb[at] = (uint)(h[wb] >> 32);
                id[at] = i;
            }
            start[c] = s;
            filterA[c] = fa;
            filterB[c] = fb;
            ids[c] = id;
        });
        return new PdqIndex(hashes, offsets, widths, start, filterA, filterB, ids);
    }

    /// <summary>The chunk starting at bit <paramref name="offset"/> (0 = most significant) of a 4-word hash, <paramref name="width"/> ≤ 32 bits.</summary>
    private static int ChunkValue(ReadOnlySpan<ulong> h, int offset, int width)
    {
        int word = offset >> 6, bit = offset & 63;
        var x = h[word] << bit;
        if (bit + width > 64) x |= h[word + 1] >> (64 - bit);
        return (int)(x >> (64 - width));
    }

    /// <summary>Words holding a chunk's filter bits: two and three words after its first word, so never overlapping a chunk of ≤ 64 bits.</summary>
    private static (int A, int B) FilterWords(int offset) => (((offset >> 6) + 2) & 3, ((offset >> 6) + 3) & 3);

    private PdqIndex Index()
    {
        var ix = _index;
        if (ix is not null) return ix;
        lock (_buildLock) return _index ??= BuildIndex();
    }

    /// <summary>Exact lookup of an MD5 or SHA-256 hex digest in the enabled lists.</summary>
    public void MatchExact(string hex, HashType type, List<HashMatch> output)
    {
        ArgumentNullException.ThrowIfNull(hex);
        ArgumentNullException.ThrowIfNull(output);
        if (type == HashType.Pdq) throw new ArgumentException("use MatchPdq for PDQ hashes", nameof(type));
        var key = (type == HashType.Md5 ? "md5:" : "sha256:") + hex.Trim().ToLowerInvariant();
        if (!_exact.TryGetValue(key, out var ids)) return;
        foreach (var id in ids)
        {
            var (list, label, hash) = _exactEntries[id];
            var cfg = _lists[list];
            if (cfg.Enabled) output.Add(new HashMatch(list, cfg.Version, label, type, hash, 0));
        }
    }

    /// <summary>PDQ lookup: every enabled-list entry within that list's distance. Returns false when the query is not 64 hex digits.</summary>
    public bool MatchPdq(string hex, List<HashMatch> output)
    {
        ArgumentNullException.ThrowIfNull(hex);
        ArgumentNullException.ThrowIfNull(output);
        hex = hex.Trim();
        if (hex.Length != 64 || !IsHex(hex)) return false;
        Span<ulong> q = stackalloc ulong[4];
        ParsePdq(hex, q);
        MatchPdq(q, output);
        return true;
    }

    /// <summary>PDQ lookup of a parsed hash (4 words, most significant hex digits first), into <paramref name="output"/> in entry order.</summary>
    public void MatchPdq(ReadOnlySpan<ulong> hash, List<HashMatch> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (hash.Length != 4) throw new ArgumentException("a PDQ hash is 4 words", nameof(hash));
        if (_pdqList.Count == 0) return;
        var maxD = MaxEnabledDistance();
        if (maxD < 0) return;
        var ix = Index();
        var found = new List<(int Index, int Distance)>();
        Search(ix, hash, maxD, PdqSimd, found);
        if (found.Count > 1) found.Sort((a, b) => a.Index.CompareTo(b.Index));
        Emit(ix, CollectionsMarshal.AsSpan(found), output);
    }

    /// <summary>Largest distance of an enabled PDQ list, or -1 when none is enabled.</summary>
    private int MaxEnabledDistance()
    {
        var maxD = -1;
        foreach (var l in _lists.Values) if (l.Enabled && l.Type == HashType.Pdq) maxD = Math.Max(maxD, l.MaxDistance);
        return maxD;
    }

    /// <summary>Turns candidates sorted by entry (possibly repeated) into matches of enabled lists within their distance.</summary>
    private void Emit(PdqIndex ix, ReadOnlySpan<(int Index, int Distance)> found, List<HashMatch> output)
    {
        var prev = -1;
        foreach (var (i, d) in found)
        {
            if (i == prev) continue; // the same entry reached through several chunks
            prev = i;
            var cfg = _lists[_listNames[_pdqList[i]]];
            if (cfg.Enabled && d <= cfg.MaxDistance)
                output.Add(new HashMatch(cfg.Name, cfg.Version, _labels[_pdqLabel[i]], HashType.Pdq, Hex(ix.Hashes.AsSpan(i * 4, 4)), d));
        }
    }

    /// <summary>
    /// Looks up many PDQ hashes (<see cref="MaxDegreeOfParallelism"/> threads); one result per query, in order. From
    /// <see cref="PdqBatchMinimum"/> queries on, the batch is matched bucket by bucket (see <see cref="MatchBatch"/>).
    /// </summary>
    public PdqLookup[] MatchPdqMany(IReadOnlyList<string> queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var ix = Index();
        if (queries.Count >= PdqBatchMinimum && MatchBatch(ix, queries) is { } batched) return batched;
        var results = new PdqLookup[queries.Count];
        Parallel.For(0, queries.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, MaxDegreeOfParallelism) }, () => new List<HashMatch>(),
            (i, _, buffer) =>
            {
                buffer.Clear();
                var q = queries[i];
                var valid = q is not null && MatchPdq(q, buffer);
                results[i] = new PdqLookup(valid, valid && buffer.Count > 0 ? [.. buffer] : []);
                return buffer;
            }, _ => { });
        return results;
    }

    /// <summary>
    /// Batch lookup: every query's probes are sorted by (chunk, bucket), then each chunk's table is read once, in
    /// order, each bucket scanned for all the queries that probe it while it is in cache (the same filter and
    /// verification as a single lookup, so the same matches). Chunks are split between threads. Null when the index
    /// would scan linearly (far thresholds or tiny lists): the caller then looks queries up one by one.
    /// </summary>
    private PdqLookup[]? MatchBatch(PdqIndex ix, IReadOnlyList<string> queries)
    {
        var maxD = MaxEnabledDistance();
        if (maxD < 0 || _pdqList.Count == 0 || !UseIndex(ix, maxD, out var radius)) return null;
        var qn = queries.Count;
        var words = new ulong[qn * 4];
        var valid = new bool[qn];
        for (var i = 0; i < qn; i++)
        {
            var hex = queries[i]?.Trim();
            if (hex is null || hex.Length != 64 || !IsHex(hex)) continue;
            valid[i] = true;
            ParsePdq(hex, words.AsSpan(i * 4, 4));
        }
        var m = ix.Offsets.Length;
        var perChunk = new List<(int Query, int Index, int Distance)>[m];
        var simd = PdqSimd && SimdSupported;
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, MaxDegreeOfParallelism) },
            c => perChunk[c] = BatchChunk(ix, c, words, valid, radius, maxD, simd));
        var all = new List<(int Query, int Index, int Distance)>();
        foreach (var l in perChunk) all.AddRange(l);
        all.Sort((a, b) => a.Query != b.Query ? a.Query.CompareTo(b.Query) : a.Index.CompareTo(b.Index));
        var results = new PdqLookup[qn];
        var buffer = new List<HashMatch>();
        var one = new List<(int Index, int Distance)>();
        var k = 0;
        for (var i = 0; i < qn; i++)
        {
            one.Clear();
            for (; k < all.Count && all[k].Query == i; k++) one.Add((all[k].Index, all[k].Distance));
            if (!valid[i] || one.Count == 0)
            {
                results[i] = new PdqLookup(valid[i], []);
                continue;
            }
            buffer.Clear();
            Emit(ix, CollectionsMarshal.AsSpan(one), buffer);
            results[i] = new PdqLookup(true, buffer.Count > 0 ? [.. buffer] : []);
        }
        return results;
    }

    /// <summary>One chunk of a batch: the queries' probes counting-sorted by bucket, then the buckets in table order.</summary>
    private static List<(int Query, int Index, int Distance)> BatchChunk(PdqIndex ix, int c, ulong[] words, bool[] valid, int radius, int maxD, bool simd)
    {
        int off = ix.Offsets[c], w = ix.Widths[c];
        var (wa, wb) = FilterWords(off);
        var qn = valid.Length;
        var values = new int[Ball(w, radius)];
        var byBucket = new int[(1 << w) + 1];
        for (var i = 0; i < qn; i++)
        {
            if (!valid[i]) continue;
            var count = ProbeValues(ChunkValue(words.AsSpan(i * 4, 4), off, w), w, radius, values);
            for (var p = 0; p < count; p++) byBucket[values[p] + 1]++;
        }
        for (var v = 0; v < 1 << w; v++) byBucket[v + 1] += byBucket[v];
        var fill = byBucket[..^1];
        // The queries in bucket order, with their filter words beside them so a bucket's group is read sequentially.
        var order = new int[byBucket[^1]];
        var orderA = new ulong[order.Length];
        var orderB = new uint[order.Length];
        for (var i = 0; i < qn; i++)
        {
            if (!valid[i]) continue;
            var q = words.AsSpan(i * 4, 4);
            var count = ProbeValues(ChunkValue(q, off, w), w, radius, values);
            for (var p = 0; p < count; p++)
            {
                var at = fill[values[p]]++;
                order[at] = i;
                orderA[at] = q[wa];
                orderB[at] = (uint)(q[wb] >> 32);
            }
        }
        var start = ix.Start[c];
        ulong[] fa = ix.FilterA[c], hashes = ix.Hashes;
        uint[] fb = ix.FilterB[c];
        int[] ids = ix.Ids[c];
        var found = new List<(int Index, int Distance)>();
        var output = new List<(int Query, int Index, int Distance)>();
        var qv = new Vector512<byte>[48];
        var candidates = new List<(int Query, int Position)>();
        var hits = new long[16 * 64];
        var prefetched = 0;
        var n = ids.Length;
        for (var v = 0; v < 1 << w; v++)
        {
            int from = start[v], to = start[v + 1];
            int g0 = byBucket[v], g1 = byBucket[v + 1];
            if (from == to || g0 == g1) continue;
            // The table is read in order: keep software prefetches BatchPrefetchSlots ahead of the scan.
            if (prefetched < from) prefetched = from & ~15;
            for (var end = Math.Min(to + BatchPrefetchSlots, n); prefetched < end; prefetched += 16)
            {
                Prefetch(fa, prefetched);
                Prefetch(fa, prefetched + 8);
                Prefetch(fb, prefetched);
            }
            if (simd)
            {
                // Groups of up to 16 queries; each group's query vectors are built once per bucket.
                for (var g = g0; g < g1; g += 16)
                {
                    var k = Math.Min(16, g1 - g);
                    for (var j = 0; j < k; j++) (qv[3 * j], qv[(3 * j) + 1], qv[(3 * j) + 2]) = QueryVectors(orderA[g + j], orderB[g + j]);
                    var need = k * ((to - from + 15) / 16) * 2;
                    if (hits.Length < need) hits = new long[need];
                    var nh = ScanBatch(fa, fb, from, to, qv, k, maxD, hits);
                    for (var h = 0; h < nh; h++)
                    {
                        var hit = hits[h];
                        var position = (int)(hit >> 16);
                        var qi = order[g + (int)((hit >> 8) & 0xFF)];
                        for (var mask = (ulong)(hit & 0xFF); mask != 0; mask &= mask - 1)
                            candidates.Add((qi, position + BitOperations.TrailingZeroCount(mask)));
                    }
                }
                continue;
            }
            for (var p = g0; p < g1; p++)
            {
                var qi = order[p];
                var q = words.AsSpan(qi * 4, 4);
                ProbeScalar(fa, fb, ids, from, to, q[wa], (uint)(q[wb] >> 32), maxD, hashes, q, found);
                foreach (var (id, d) in found) output.Add((qi, id, d));
                found.Clear();
            }
        }
        // Survivors of the filter sit at random places in the entry numbers and the full hashes: both are read with
        // prefetches running ahead, so the cache misses overlap instead of queueing one after another.
        var cand = CollectionsMarshal.AsSpan(candidates);
        var entry = new int[cand.Length];
        for (var k = 0; k < cand.Length; k++)
        {
            if (k + VerifyPrefetch < cand.Length) Prefetch(ids, cand[k + VerifyPrefetch].Position);
            entry[k] = ids[cand[k].Position];
        }
        for (var k = 0; k < cand.Length; k++)
        {
            if (k + VerifyPrefetch < cand.Length) Prefetch(hashes, entry[k + VerifyPrefetch] * 4);
            var qi = cand[k].Query;
            var d = Distance(hashes, entry[k], words.AsSpan(qi * 4, 4));
            if (d <= maxD) output.Add((qi, entry[k], d));
        }
        return output;
    }

    /// <summary>Whether <paramref name="maxD"/> is searched through the index (else by a linear scan), and the per-chunk radius.</summary>
    private static bool UseIndex(PdqIndex ix, int maxD, out int radius)
    {
        // Pigeonhole: m chunks each differing in more than r bits would make the distance at least m(r + 1).
        radius = maxD / ix.Offsets.Length;
        var probeCount = 0L;
        foreach (var w in ix.Widths) probeCount += Ball(w, radius);
        return radius <= 3 && probeCount <= ix.Hashes.Length / 16;
    }

    /// <summary>Writes the values within Hamming distance <paramref name="radius"/> (≤ 3) of the <paramref name="w"/>-bit <paramref name="v"/>; returns how many.</summary>
    private static int ProbeValues(int v, int w, int radius, Span<int> dst)
    {
        var p = 0;
        dst[p++] = v;
        for (var b1 = 0; b1 < w && radius >= 1; b1++)
        {
            var v1 = v ^ (1 << b1);
            dst[p++] = v1;
            for (var b2 = b1 + 1; b2 < w && radius >= 2; b2++)
            {
                var v2 = v1 ^ (1 << b2);
                dst[p++] = v2;
                for (var b3 = b2 + 1; b3 < w && radius >= 3; b3++) dst[p++] = v2 ^ (1 << b3);
            }
        }
        return p;
    }

    /// <summary>Candidates within <paramref name="maxD"/> of <paramref name="q"/>, possibly repeated (one per chunk that reached them).</summary>
    private static void Search(PdqIndex ix, ReadOnlySpan<ulong> q, int maxD, bool useSimd, List<(int Index, int Distance)> found)
    {
        var hashes = ix.Hashes;
        var m = ix.Offsets.Length;
        if (!UseIndex(ix, maxD, out var radius))
        {
            // Far outside PDQ's useful range (or a tiny list): scan.
            for (var i = 0; i < hashes.Length / 4; i++)
            {
                var d = Distance(hashes, i, q);
                if (d <= maxD) found.Add((i, d));
            }
            return;
        }
        // The probes' memory accesses are random (bucket offsets, then slots), so they are software-pipelined:
        // all probe values first, then the offsets read with a prefetch running PrefetchDistance probes ahead,
        // then the slot scans likewise.
        var np = 0;
        foreach (var w in ix.Widths) np += (int)Ball(w, radius);
        var probes = t_probes is { } buf && buf.Length >= np * 4 ? buf : t_probes = new int[np * 4];
        var p = 0;
        for (var c = 0; c < m; c++)
        {
            var first = p;
            p += ProbeValues(ChunkValue(q, ix.Offsets[c], ix.Widths[c]), ix.Widths[c], radius, probes.AsSpan(p));
            probes.AsSpan(np + first, p - first).Fill(c);
        }
        var ranges = probes.AsSpan(2 * np, 2 * np);
        for (p = 0; p < Math.Min(PrefetchDistance, np); p++) Prefetch(ix.Start[probes[np + p]], probes[p]);
        for (p = 0; p < np; p++)
        {
            var ahead = p + PrefetchDistance;
            if (ahead < np) Prefetch(ix.Start[probes[np + ahead]], probes[ahead]);
            var s = ix.Start[probes[np + p]];
            var v = probes[p];
            ranges[2 * p] = s[v];
            ranges[(2 * p) + 1] = s[v + 1];
        }
        var simd = useSimd && SimdSupported;
        for (p = 0; p < Math.Min(PrefetchDistance, np); p++)
            if (ranges[(2 * p) + 1] > ranges[2 * p]) PrefetchBucket(ix, probes[np + p], ranges[2 * p]);
        for (p = 0; p < np; p++)
        {
            var ahead = p + PrefetchDistance;
            if (ahead < np && ranges[(2 * ahead) + 1] > ranges[2 * ahead]) PrefetchBucket(ix, probes[np + ahead], ranges[2 * ahead]);
            int from = ranges[2 * p], to = ranges[(2 * p) + 1];
            if (from == to) continue;
            var c = probes[np + p];
            var (wa, wb) = FilterWords(ix.Offsets[c]);
            if (simd) ProbeSimd(ix.FilterA[c], ix.FilterB[c], ix.Ids[c], from, to, q[wa], (uint)(q[wb] >> 32), maxD, hashes, q, found);
            else ProbeScalar(ix.FilterA[c], ix.FilterB[c], ix.Ids[c], from, to, q[wa], (uint)(q[wb] >> 32), maxD, hashes, q, found);
        }
    }

    /// <summary>True when the CPU runs the AVX-512 bucket scan (8 slots at a time; needs AVX-512 F and BW).</summary>
    public static bool SimdSupported => Avx512F.IsSupported && Avx512BW.IsSupported;

    private static void PrefetchBucket(PdqIndex ix, int c, int from)
    {
        Prefetch(ix.FilterA[c], from);
        Prefetch(ix.FilterA[c], from + 8);
        Prefetch(ix.FilterB[c], from);
    }

    private const int PrefetchDistance = 24;

    /// <summary>How far (in slots) a batch's in-order table scan prefetches ahead.</summary>
    private const int BatchPrefetchSlots = 1024;

    /// <summary>How many filter survivors ahead a batch's verification prefetches.</summary>
    private const int VerifyPrefetch = 16;

    /// <summary>Values within Hamming distance <paramref name="r"/> of a <paramref name="w"/>-bit value.</summary>
    private static long Ball(int w, int r)
    {
        long total = 0, binom = 1;
        for (var k = 0; k <= r && k <= w; k++)
        {
            total += binom;
            binom = binom * (w - k) / (k + 1);
        }
        return total;
    }

    [ThreadStatic]
    private static int[]? t_probes;

    /// <summary>Hints the cache line holding <paramref name="array"/>[<paramref name="i"/>] into cache (a no-op where unsupported).</summary>
    private static unsafe void Prefetch<T>(T[] array, int i)
        where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        // A prefetch never faults, so a stale address after a GC move is harmless.
        Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), i)));
    }

    private static void ProbeScalar(ulong[] fa, uint[] fb, int[] ids, int from, int to, ulong qa, uint qb, int maxD, ulong[] hashes,
        ReadOnlySpan<ulong> q, List<(int Index, int Distance)> found)
    {
        for (var i = from; i < to; i++)
        {
            // 96 of the 256 bits already bound the distance from below: random hashes almost never pass.
            if (BitOperations.PopCount(qa ^ fa[i]) + BitOperations.PopCount(qb ^ fb[i]) > maxD) continue;
            var id = ids[i];
            var d = Distance(hashes, id, q);
            if (d <= maxD) found.Add((id, d));
        }
    }

    /// <summary>
    /// The same scan as <see cref="ProbeScalar"/>, 8 slots per step (see <see cref="FilterMask"/>). The last step may
    /// read past the bucket (the arrays are padded); those lanes are masked off. Entry numbers are read only for the
    /// rare survivors.
    /// </summary>
    private static void ProbeSimd(ulong[] fa, uint[] fb, int[] ids, int from, int to, ulong qa, uint qb, int maxD, ulong[] hashes,
        ReadOnlySpan<ulong> q, List<(int Index, int Distance)> found)
    {
        if ((uint)to > (uint)(fa.Length - Pad) || (uint)to > (uint)(fb.Length - Pad) || (uint)from > (uint)to)
            throw new ArgumentOutOfRangeException(nameof(to));
        var (vqa, vqas, vqbn) = QueryVectors(qa, qb);
        var limit = Vector512.Create((ulong)maxD);
        var nibble = Vector512.Create((byte)0x0F);
        var table = NibbleCounts;
        ref var ra = ref MemoryMarshal.GetArrayDataReference(fa);
        ref var rb = ref MemoryMarshal.GetArrayDataReference(fb);
        for (var i = from; i < to; i += 8)
        {
            var x = Vector512.LoadUnsafe(ref ra, (nuint)i).AsByte();
            var mask = FilterMask(x, (x.AsUInt64() >> 4).AsByte(), NibblesB(Vector256.LoadUnsafe(ref rb, (nuint)i)), vqa, vqas, vqbn, limit, nibble, table);
            if (mask == 0) continue;
            var left = to - i;
            if (left < 8) mask &= (1UL << left) - 1;
            while (mask != 0)
            {
                var lane = BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                var id = ids[i + lane];
                var d = Distance(hashes, id, q);
                if (d <= maxD) found.Add((id, d));
            }
        }
    }

    /// <summary>
    /// One bucket against a group of queries (a batch): each 8-slot step is loaded once and tested against every query
    /// of the group, whose vectors (<see cref="QueryVectors"/>, three per query) are in <paramref name="qv"/>. Steps
    /// with slots that pass the filter are only written to <paramref name="hits"/> (slot position of the step, query
    /// of the group, lane mask: see <see cref="PackHit"/>; at most group × steps of them) and verified later with
    /// prefetching; no call in the loop, so the vectors stay in registers. Returns the number of hits.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int ScanBatch(ulong[] fa, uint[] fb, int from, int to, ReadOnlySpan<Vector512<byte>> qv, int k, int maxD, Span<long> hits)
    {
        if ((uint)to > (uint)(fa.Length - Pad) || (uint)to > (uint)(fb.Length - Pad) || (uint)from > (uint)to || qv.Length < 3 * k
            || hits.Length < k * ((to - from + 15) / 16) * 2)
            throw new ArgumentOutOfRangeException(nameof(to));
        var limit = Vector512.Create((ulong)maxD);
        var nibble = Vector512.Create((byte)0x0F);
        var table = NibbleCounts;
        ref var ra = ref MemoryMarshal.GetArrayDataReference(fa);
        ref var rb = ref MemoryMarshal.GetArrayDataReference(fb);
        ref var rq = ref MemoryMarshal.GetReference(qv);
        ref var rh = ref MemoryMarshal.GetReference(hits);
        var n = 0;
        // Two 8-slot steps per pass over the group (the arrays carry 16 spare slots), so each query's vectors are
        // loaded once per 16 slots.
        for (var i = from; i < to; i += 16)
        {
            var x0 = Vector512.LoadUnsafe(ref ra, (nuint)i).AsByte();
            var x1 = Vector512.LoadUnsafe(ref ra, (nuint)(i + 8)).AsByte();
            var xs0 = (x0.AsUInt64() >> 4).AsByte();
            var xs1 = (x1.AsUInt64() >> 4).AsByte();
            var yn0 = NibblesB(Vector256.LoadUnsafe(ref rb, (nuint)i));
            var yn1 = NibblesB(Vector256.LoadUnsafe(ref rb, (nuint)(i + 8)));
            var left = to - i;
            var tail0 = left < 8 ? (1UL << left) - 1 : ulong.MaxValue;
            var tail1 = left < 16 ? (left <= 8 ? 0 : (1UL << (left - 8)) - 1) : ulong.MaxValue;
            for (var j = 0; j < k; j++)
            {
                ref var v = ref Unsafe.Add(ref rq, 3 * j);
                var qa = v;
                var qas = Unsafe.Add(ref v, 1);
                var qbn = Unsafe.Add(ref v, 2);
                var mask0 = FilterMask(x0, xs0, yn0, qa, qas, qbn, limit, nibble, table) & tail0;
                var mask1 = FilterMask(x1, xs1, yn1, qa, qas, qbn, limit, nibble, table) & tail1;
                if ((mask0 | mask1) == 0) continue;
                if (mask0 != 0) Unsafe.Add(ref rh, n++) = PackHit(i, j, mask0);
                if (mask1 != 0) Unsafe.Add(ref rh, n++) = PackHit(i + 8, j, mask1);
            }
        }
        return n;
    }

    /// <summary>A batch hit: slot position of an 8-slot step (bits 16..), query of the group (8..15), lane mask (0..7).</summary>
    private static long PackHit(int position, int query, ulong mask) => ((long)position << 16) | ((long)query << 8) | (long)mask;

    /// <summary>Bit counts of the 16 nibble values, in each 128-bit lane (VPSHUFB looks up within lanes).</summary>
    private static Vector512<byte> NibbleCounts => Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);

    /// <summary>A query's filter words as the vectors <see cref="FilterMask"/> takes: 64-bit word, it shifted by a nibble, 32-bit word as nibbles.</summary>
    private static (Vector512<byte> A, Vector512<byte> AShifted, Vector512<byte> BNibbles) QueryVectors(ulong qa, uint qb)
    {
        var nibblesB = (qb & 0x0F0F0F0FUL) | ((ulong)((qb >> 4) & 0x0F0F0F0F) << 32);
        return (Vector512.Create(qa).AsByte(), Vector512.Create(qa >> 4).AsByte(), Vector512.Create(nibblesB).AsByte());
    }

    /// <summary>Eight 32-bit filter words as nibbles in 64-bit lanes: low nibbles in bytes 0–3, high nibbles in bytes 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> NibblesB(Vector256<uint> b)
    {
        var y = Avx512F.ConvertToVector512UInt64(b);
        return ((y & Vector512.Create(0x0F0F0F0FUL)) | ((y << 28) & Vector512.Create(0x0F0F0F0F_00000000UL))).AsByte();
    }

    /// <summary>
    /// Lanes (bit k = slot k) whose 96 filter bits differ from the query's in at most <paramref name="limit"/> bits.
    /// .NET 10 exposes no VPOPCNTQ, so the count is the nibble-table one: VPSHUFB looks up the bit count of each nibble
    /// of the XOR (low nibbles of the 64-bit word, its high nibbles, and the 32-bit word's nibbles: 24 per slot, three
    /// lookups per 8 slots; XOR and nibble mask fused in VPTERNLOGQ), VPSADBW sums each slot's bytes, one compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FilterMask(Vector512<byte> x, Vector512<byte> xs, Vector512<byte> yn, Vector512<byte> qa, Vector512<byte> qas, Vector512<byte> qbn,
        Vector512<ulong> limit, Vector512<byte> nibble, Vector512<byte> table)
    {
        // 0x28 = (a ^ b) & c.
        var lo = Avx512F.TernaryLogic(x, qa, nibble, 0x28);
        var hi = Avx512F.TernaryLogic(xs, qas, nibble, 0x28);
        var bytes = Avx512BW.Shuffle(table, lo) + Avx512BW.Shuffle(table, hi) + Avx512BW.Shuffle(table, yn ^ qbn);
        return Vector512.LessThanOrEqual(Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64(), limit).ExtractMostSignificantBits();
    }

    private static int Distance(ulong[] hashes, int i, ReadOnlySpan<ulong> q)
    {
        var h = hashes.AsSpan(i * 4, 4);
        return BitOperations.PopCount(q[0] ^ h[0]) + BitOperations.PopCount(q[1] ^ h[1])
            + BitOperations.PopCount(q[2] ^ h[2]) + BitOperations.PopCount(q[3] ^ h[3]);
    }

    private static string Hex(ReadOnlySpan<ulong> words)
    {
        Span<byte> b = stackalloc byte[32];
        for (var k = 0; k < 4; k++) BinaryPrimitives.WriteUInt64BigEndian(b[(k * 8)..], words[k]);
        return Convert.ToHexStringLower(b);
    }

    private static void ParsePdq(string hex, Span<ulong> words)
    {
        for (var k = 0; k < 4; k++) words[k] = ulong.Parse(hex.AsSpan(k * 16, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static bool IsHex(string s)
    {
        foreach (var c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
