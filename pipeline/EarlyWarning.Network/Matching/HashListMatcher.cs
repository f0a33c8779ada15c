using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// offsets), each slot carrying the entry number and 96 other bits of its hash, so almost every candidate is
/// rejected by a lower bound on its distance without touching the full hashes; survivors are verified against
/// one contiguous array of 4 × 64-bit words per entry. Probes are software-pipelined with prefetches.
/// Load lists with <see cref="Configure"/> and <see cref="LoadCsv(TextReader)"/>; matching is thread-safe once
/// loading is done (do not add entries while matching).
/// </summary>
public sealed class HashListMatcher
{
    /// <summary>One slot of a chunk table: 96 filter bits of the hash (two words away from the chunk's) and the PDQ entry number.</summary>
    private readonly record struct Slot(ulong A, uint B, int Id);

    /// <summary>The built PDQ index: immutable once published.</summary>
    private sealed class PdqIndex(ulong[] hashes, int[] offsets, int[] widths, int[][] start, Slot[][] slots)
    {
        public ulong[] Hashes { get; } = hashes; // 4 words per PDQ entry, most significant hex digits first
        public int[] Offsets { get; } = offsets; // per chunk: first bit (0 = most significant)
        public int[] Widths { get; } = widths; // per chunk: bits
        public int[][] Start { get; } = start; // per chunk: 2^width + 1 bucket offsets
        public Slot[][] Slots { get; } = slots; // per chunk: entries sorted by chunk value
    }

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
        var slots = new Slot[m][];
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
            var it = new Slot[n];
            for (var i = 0; i < n; i++)
            {
                var h = hashes.AsSpan(i * 4, 4);
                it[fill[ChunkValue(h, off, w)]++] = new Slot(h[wa], (uint)(h[wb] >> 32), i);
            }
            start[c] = s;
            slots[c] = it;
        });
        return new PdqIndex(hashes, offsets, widths, start, slots);
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
        var maxD = -1;
        foreach (var l in _lists.Values) if (l.Enabled && l.Type == HashType.Pdq) maxD = Math.Max(maxD, l.MaxDistance);
        if (maxD < 0) return;
        var ix = Index();
        var found = new List<(int Index, int Distance)>();
        Search(ix, hash, maxD, found);
        if (found.Count > 1)
        {
            found.Sort((a, b) => a.Index.CompareTo(b.Index));
        }
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

    /// <summary>Looks up many PDQ hashes in parallel (<see cref="MaxDegreeOfParallelism"/> threads); one result per query, in order.</summary>
    public PdqLookup[] MatchPdqMany(IReadOnlyList<string> queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        Index();
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

    /// <summary>Candidates within <paramref name="maxD"/> of <paramref name="q"/>, possibly repeated (one per chunk that reached them).</summary>
    private static void Search(PdqIndex ix, ReadOnlySpan<ulong> q, int maxD, List<(int Index, int Distance)> found)
    {
        var hashes = ix.Hashes;
        var m = ix.Offsets.Length;
        // Pigeonhole: m chunks each differing in more than r bits would make the distance at least m(r + 1).
        var radius = maxD / m;
        var probeCount = 0L;
        foreach (var w in ix.Widths) probeCount += Ball(w, radius);
        if (radius > 3 || probeCount > hashes.Length / 16)
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
        var np = (int)probeCount;
        var probes = t_probes is { } buf && buf.Length >= np * 4 ? buf : t_probes = new int[np * 4];
        var p = 0;
        for (var c = 0; c < m; c++)
        {
            var w = ix.Widths[c];
            var v = ChunkValue(q, ix.Offsets[c], w);
            var first = p;
            probes[p++] = v;
            for (var b1 = 0; b1 < w && radius >= 1; b1++)
            {
                var v1 = v ^ (1 << b1);
                probes[p++] = v1;
                for (var b2 = b1 + 1; b2 < w && radius >= 2; b2++)
                {
                    var v2 = v1 ^ (1 << b2);
                    probes[p++] = v2;
                    for (var b3 = b2 + 1; b3 < w && radius >= 3; b3++) probes[p++] = v2 ^ (1 << b3);
                }
            }
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
        for (p = 0; p < Math.Min(PrefetchDistance, np); p++)
            if (ranges[(2 * p) + 1] > ranges[2 * p]) Prefetch(ix.Slots[probes[np + p]], ranges[2 * p]);
        for (p = 0; p < np; p++)
        {
            var ahead = p + PrefetchDistance;
            if (ahead < np && ranges[(2 * ahead) + 1] > ranges[2 * ahead]) Prefetch(ix.Slots[probes[np + ahead]], ranges[2 * ahead]);
            int from = ranges[2 * p], to = ranges[(2 * p) + 1];
            if (from == to) continue;
            var c = probes[np + p];
            var (wa, wb) = FilterWords(ix.Offsets[c]);
            Probe(ix.Slots[c], from, to, q[wa], (uint)(q[wb] >> 32), maxD, hashes, q, found);
        }
    }

    private const int PrefetchDistance = 24;

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

    private static void Probe(Slot[] slots, int from, int to, ulong qa, uint qb, int maxD, ulong[] hashes, ReadOnlySpan<ulong> q,
        List<(int Index, int Distance)> found)
    {
        var span = slots.AsSpan(from, to - from);
        foreach (ref readonly var slot in span)
        {
            // 96 of the 256 bits already bound the distance from below: random hashes almost never pass.
            if (BitOperations.PopCount(qa ^ slot.A) + BitOperations.PopCount(qb ^ slot.B) > maxD) continue;
            var d = Distance(hashes, slot.Id, q);
            if (d <= maxD) found.Add((slot.Id, d));
        }
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
