using System.Globalization;
using System.Numerics;

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

/// <summary>
/// Matches media hashes against known-content hash lists: exact MD5/SHA-256 sets, and PDQ by Hamming distance
/// with multi-index hashing (the 256 bits split into 16 chunks of 16 bits; by pigeonhole a hash within distance d
/// agrees with the query within ⌊d/16⌋ bits on at least one chunk, so probing each chunk's table with all values
/// that close finds every candidate; candidates are then verified with the full distance).
/// Load lists with <see cref="Configure"/> and <see cref="LoadCsv(TextReader)"/>; matching is thread-safe once loading is done.
/// </summary>
public sealed class HashListMatcher
{
    private readonly Dictionary<string, HashListConfig> _lists = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _exact = new(StringComparer.Ordinal); // "md5:hex"/"sha256:hex" → entries
    private readonly List<(string List, string Label, string Hash)> _entries = [];
    private readonly List<ulong> _pdqWords = []; // 4 words per PDQ entry
    private readonly List<int> _pdqEntry = [];
    private readonly HashSet<string> _pdqSeen = new(StringComparer.Ordinal);
    private int[][]? _chunkStart; // per chunk: CSR offsets over 65536 values
    private int[][]? _chunkItems;

    /// <summary>Rows rejected by the loaders, with line and reason.</summary>
    public List<HashListRejection> Rejections { get; } = [];

    public int EntryCount => _entries.Count;
    public int PdqCount => _pdqEntry.Count;
    public IReadOnlyCollection<HashListConfig> Lists => _lists.Values;

    /// <summary>Adds or replaces a list's configuration (threshold, enabled flag, version).</summary>
    public void Configure(HashListConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.MaxDistance is < 0 or > 128) throw new ArgumentOutOfRangeException(nameof(config), "MaxDistance must be in 0..128");
        _lists[config.Name] = config;
    }

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
        var id = _entries.Count;
        _entries.Add((list, label, hex));
        if (type == HashType.Pdq)
        {
            if (!_pdqSeen.Add(list + "\n" + hex)) return null;
            Span<ulong> w = stackalloc ulong[4];
            ParsePdq(hex, w);
            foreach (var x in w) _pdqWords.Add(x);
            _pdqEntry.Add(id);
            _chunkStart = null;
        }
        else
        {
            var key = (type == HashType.Md5 ? "md5:" : "sha256:") + hex;
            if (!_exact.TryGetValue(key, out var ids)) _exact[key] = ids = [];
            ids.Add(id);
        }
        return null;
    }

    /// <summary>Builds the PDQ multi-index now (it is otherwise built on the first PDQ lookup after a change).</summary>
    public void Build()
    {
        var n = _pdqEntry.Count;
        var start = new int[16][];
        var items = new int[16][];
        for (var c = 0; c < 16; c++)
        {
            var s = new int[65537];
            for (var i = 0; i < n; i++) s[Chunk(i, c) + 1]++;
            for (var v = 0; v < 65536; v++) s[v + 1] += s[v];
            var fill = new int[65536];
            Array.Copy(s, fill, 65536);
            var it = new int[n];
            for (var i = 0; i < n; i++) it[fill[Chunk(i, c)]++] = i;
            start[c] = s;
            items[c] = it;
        }
        _chunkItems = items;
        _chunkStart = start;
    }

    private int Chunk(int pdqIndex, int c) => (int)((_pdqWords[(pdqIndex * 4) + (c >> 2)] >> ((3 - (c & 3)) * 16)) & 0xFFFF);

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
            var (list, label, hash) = _entries[id];
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
        if (_pdqEntry.Count == 0) return true;
        var maxD = 0;
        foreach (var l in _lists.Values) if (l.Enabled) maxD = Math.Max(maxD, l.MaxDistance);
        if (_chunkStart is null)
        {
            lock (_lists)
            {
                if (_chunkStart is null) Build();
            }
        }
        Span<ulong> q = stackalloc ulong[4];
        ParsePdq(hex, q);
        var radius = maxD / 16;
        var found = new List<(int Index, int Distance)>();
        var seen = new HashSet<int>();
        void Check(int i, Span<ulong> query)
        {
            var d = 0;
            for (var k = 0; k < 4; k++) d += BitOperations.PopCount(query[k] ^ _pdqWords[(i * 4) + k]);
            // Distance first: most candidates fail it, and only survivors need the set and the list config.
            if (d <= maxD && seen.Add(i)) found.Add((i, d));
        }
        if (radius > 2)
        {
            // Distance ≥ 48 is outside PDQ's useful range; scan.
            for (var i = 0; i < _pdqEntry.Count; i++) Check(i, q);
        }
        else
        {
            var starts = _chunkStart!;
            var items = _chunkItems!;
            for (var c = 0; c < 16; c++)
            {
                var v = (int)((q[c >> 2] >> ((3 - (c & 3)) * 16)) & 0xFFFF);
                var s = starts[c];
                var it = items[c];
                for (var k = s[v]; k < s[v + 1]; k++) Check(it[k], q);
                if (radius < 1) continue;
                for (var b1 = 0; b1 < 16; b1++)
                {
                    var v1 = v ^ (1 << b1);
                    for (var k = s[v1]; k < s[v1 + 1]; k++) Check(it[k], q);
                    if (radius < 2) continue;
                    for (var b2 = b1 + 1; b2 < 16; b2++)
                    {
                        var v2 = v1 ^ (1 << b2);
                        for (var k = s[v2]; k < s[v2 + 1]; k++) Check(it[k], q);
                    }
                }
            }
        }
        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach (var (i, d) in found)
        {
            var (list, label, hash) = _entries[_pdqEntry[i]];
            var cfg = _lists[list];
            if (cfg.Enabled && d <= cfg.MaxDistance) output.Add(new HashMatch(list, cfg.Version, label, HashType.Pdq, hash, d));
        }
        return true;
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
