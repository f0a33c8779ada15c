namespace EarlyWarning.Text.Normalization;

/// <summary>
/// Allocation-free test that a text is already in NFKC, from the Unicode quick-check properties (UAX #15): every
/// character stable under NFKC, combining classes in canonical order, and no character that would compose with
/// the starter before it. "False" means "not known": the caller then asks ICU (which allocates a little).
/// </summary>
internal static class NfkcQuickCheck
{
    private static readonly byte[] Table = BuildTable();      // U+0000..U+1FFFF -> 0 / ccc / 255
    // Per BMP character: SecondOfPair when it is the second element of a composition, FirstOfPair when it can be the
    // first (a starter some second composes with), so most marks skip the pair search after a starter that composes
    // with nothing (Sinhala's virama after a consonant, say).
    private const byte SecondOfPair = 1, FirstOfPair = 2;
    private static readonly byte[] ComposeFlags = BuildComposes();
    // Copied out of the generated spans once: non-byte span properties allocate per access in Debug builds.
    private static readonly uint[] Pairs = NfkcData.Pairs.ToArray();
    private static readonly char[] Composites = NfkcData.Composites.ToArray();
    private static readonly ushort[] SimpleEntries = NfkcSimpleData.Entries.ToArray();

    /// <summary>The quick-check value per code point (U+0000..U+1FFFF): 0 a stable starter, 1..254 a stable mark's combining class, 255 not stable.</summary>
    internal static byte[] Values => Table;

    /// <summary>Whether <paramref name="second"/> composes with the starter <paramref name="first"/> before it (IsKnownNormalized's pair test).</summary>
    internal static bool Composes(char first, char second) => MayFormPair(first, second) && FormsPair(first, second);

    /// <summary>Whether some starter composes with <paramref name="c"/> as the second of a pair.</summary>
    internal static bool IsSecondOfPair(char c) => (ComposeFlags[c] & SecondOfPair) != 0;

    public static bool IsKnownNormalized(ReadOnlySpan<char> s)
    {
        var table = Table;
        var lastCcc = 0;
        var lastStarter = '\0';
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c < '\u0080') { lastCcc = 0; lastStarter = c; continue; }
            int v;
            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) return false;
                var cp = char.ConvertToUtf32(c, s[i + 1]);
                i++;
                v = cp < 0x20000 ? table[cp] : 255;
                if (v == 255) return false;
                if (v == 0) { lastCcc = 0; lastStarter = '\0'; }
                else if (v < lastCcc) return false;
                else lastCcc = v;
                continue;
            }
            v = table[c];
            if (v == 255) return false;
            if (MayFormPair(lastStarter, c) && FormsPair(lastStarter, c)) return false;
            // A precomposed starter counts with the class its decomposition ends in: a mark of lower class after it
            // (â + ◌̣) would be reordered into it, so the text is not known to be normalised.
            if (v == 0) { lastCcc = TrailingClass[c]; lastStarter = c; }
            else if (v < lastCcc) return false;
            else lastCcc = v;
        }
        return true;
    }

    /// <summary>Non-starters in a row after which <see cref="InsertJoiners"/> puts a grapheme joiner (UAX #15's stream-safe limit).</summary>
    internal const int MaxNonStarters = 30;

    /// <summary>U+034F COMBINING GRAPHEME JOINER: a starter that changes no rendering.</summary>
    internal const char GraphemeJoiner = '\u034F';

    // A unit (or the pair starting at i) that is, or may decompose to, a non-starter: a mark, or an unstable unit
    // without a simple form (which are all starters).
    private static bool IsNonStarterAt(ReadOnlySpan<char> s, int i, out int width)
    {
        var c = s[i];
        width = 1;
        if (c < '\u0300') return false;
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            var cp = char.ConvertToUtf32(c, s[i + 1]);
            return cp >= 0x20000 || Table[cp] != 0;
        }
        var v = Table[c];
        return v != 0 && (v != 255 || SimpleIndex[c] == 0);
    }

    /// <summary>Whether some run of non-starters in <paramref name="s"/> is longer than <see cref="MaxNonStarters"/>.</summary>
    internal static bool NeedsJoiners(ReadOnlySpan<char> s)
    {
        var run = 0;
        for (var i = 0; i < s.Length;)
        {
            if (IsNonStarterAt(s, i, out var width)) { if (++run > MaxNonStarters) return true; }
            else run = 0;
            i += width;
        }
        return false;
    }

    /// <summary>
    /// UAX #15's stream-safe text process on UTF-16 units: a grapheme joiner after every <see cref="MaxNonStarters"/>
    /// non-starters in a row, so canonical reordering (quadratic in the run, in ICU as in any insertion sort) works
    /// on bounded runs. Only text no language writes has such runs (a post of thousands of stacked marks); its
    /// normalised form then keeps the joiners. <paramref name="dest"/> needs <c>s.Length + s.Length / 30 + 1</c>.
    /// </summary>
    internal static int InsertJoiners(ReadOnlySpan<char> s, Span<char> dest)
    {
        var w = 0;
        var run = 0;
        for (var i = 0; i < s.Length;)
        {
            if (IsNonStarterAt(s, i, out var width))
            {
                if (run == MaxNonStarters) { dest[w++] = GraphemeJoiner; run = 0; }
                run++;
            }
            else run = 0;
            for (var k = 0; k < width; k++) dest[w++] = s[i + k];
            i += width;
        }
        return w;
    }

    /// <summary>
    /// Per BMP unit, the combining class its canonical decomposition ends in (0 for units that do not decompose):
    /// the class of the second unit of the pair a primary composite is made of (its first part's marks come before
    /// it in canonical order). A mark of lower class after such a starter means the text is not normalised.
    /// </summary>
    internal static readonly byte[] TrailingClass = BuildTrailing();

    private static byte[] BuildTrailing()
    {
        var t = new byte[0x10000];
        var pairs = NfkcData.Pairs;
        var composites = NfkcData.Composites;
        for (var i = 0; i < pairs.Length; i++) t[composites[i]] = Table[pairs[i] & 0xFFFF];
        return t;
    }

    /// <summary>
    /// NFKC without ICU for text whose only unstable characters have a simple compatibility form (NBSP, "…",
    /// fullwidth and presentation forms, ligatures): writes the normalised text and returns true, or returns false
    /// when ICU is needed. <paramref name="dest"/> must hold 4 chars per input char.
    /// </summary>
    public static bool TryNormalizeSimple(ReadOnlySpan<char> s, Span<char> dest, out int written)
    {
        written = 0;
        if (dest.Length < s.Length * 4) return false;
        var table = Table;
        var simple = SimpleIndex;
        var pool = NfkcSimpleData.Pool;
        var entries = SimpleEntries;
        var w = 0;
        var lastCcc = 0;
        var lastStarter = '\0';
        int runStart = 0, unsorted = -1; // the current run of marks; the start of a run to sort when it ends, or -1
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c < '\u0080')
            {
                if (unsorted >= 0) { SortMarks(dest, unsorted, w); unsorted = -1; }
                dest[w++] = c;
                lastCcc = 0;
                lastStarter = c;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) return false;
                var cp = char.ConvertToUtf32(c, s[i + 1]);
                var sv = cp < 0x20000 ? table[cp] : 255;
                if (sv != 0) return false; // unstable, or a supplementary mark (rare): ICU
                if (unsorted >= 0) { SortMarks(dest, unsorted, w); unsorted = -1; }
                lastCcc = 0;
                lastStarter = '\0';
                dest[w++] = c;
                dest[w++] = s[++i];
                continue;
            }
            int v = table[c];
            if (v == 255)
            {
                var e = simple[c] - 1;
                if (e < 0) return false;
                if (unsorted >= 0) { SortMarks(dest, unsorted, w); unsorted = -1; }
                int off = entries[e * 3 + 1], len = entries[e * 3 + 2];
                pool.AsSpan(off, len).CopyTo(dest[w..]);
                w += len;
                lastCcc = 0;
                lastStarter = pool[off + len - 1];
                continue;
            }
            // A mark of lower class than the last one in the starter's canonical decomposition belongs before it in
            // canonical order and may compose first (Vietnamese â + ◌̣ is ậ, by way of ạ): ICU decides.
            if (v != 0 && v < TrailingClass[lastStarter]) return false;
            if (MayFormPair(lastStarter, c) && FormsPair(lastStarter, c))
            {
                // Compose only when the pair is adjacent ("ෙ" + "්" → "ේ"); anything subtler goes to ICU.
                var pair = FindPair(((uint)lastStarter << 16) | c);
                if (pair < 0 || w == 0 || dest[w - 1] != lastStarter) return false;
                var composite = Composites[pair];
                if (table[composite] != 0) return false;
                dest[w - 1] = composite;
                lastStarter = composite;
                lastCcc = 0;
                continue;
            }
            if (v == 0)
            {
                if (unsorted >= 0) { SortMarks(dest, unsorted, w); unsorted = -1; }
                lastCcc = 0;
                lastStarter = c;
            }
            else
            {
                if (lastCcc == 0) runStart = w;
                // Canonical reordering ("်" + "့" typed as U+103A U+1037 → U+1037 U+103A): the run of marks is sorted
                // by combining class once it ends. Sound here because every composing mark was already checked.
                if (v < lastCcc) unsorted = runStart;
                else lastCcc = v;
            }
            dest[w++] = c;
        }
        if (unsorted >= 0) SortMarks(dest, unsorted, w);
        written = w;
        return true;
    }

    /// <summary>
    /// Canonical ordering of the run of BMP marks (combining class 1-254) that starts at <paramref name="from"/> in
    /// <paramref name="s"/> (ending before <paramref name="limit"/> or the first unit that is not such a mark): a
    /// stable sort by combining class, as UAX #15's pairwise exchanges give, in linear time for long runs (an
    /// insertion per mark would be quadratic on a post of thousands of marks).
    /// </summary>
    internal static void SortMarks(Span<char> s, int from, int limit)
    {
        var table = Table;
        var end = from;
        while (end < limit && !char.IsSurrogate(s[end]) && table[s[end]] is > 0 and < 255) end++;
        var run = s[from..end];
        if (run.Length <= 32)
        {
            for (var i = 1; i < run.Length; i++)
            {
                var c = run[i];
                var v = table[c];
                var k = i;
                while (k > 0 && table[run[k - 1]] > v) { run[k] = run[k - 1]; k--; }
                run[k] = c;
            }
            return;
        }
        // Counting sort by class: stable, two passes over the run and one over the 256 classes.
        Span<int> starts = stackalloc int[256];
        foreach (var c in run) starts[table[c]]++;
        for (int cls = 0, sum = 0; cls < 256; cls++) { var n = starts[cls]; starts[cls] = sum; sum += n; }
        char[]? rented = null;
        var copy = run.Length <= 512 ? stackalloc char[run.Length] : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(run.Length)).AsSpan(0, run.Length);
        run.CopyTo(copy);
        foreach (var c in copy) run[starts[table[c]]++] = c;
        if (rented is not null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
    }

    private static readonly ushort[] SimpleIndex = BuildSimpleIndex();

    private static ushort[] BuildSimpleIndex()
    {
        var t = new ushort[0x10000];
        var e = NfkcSimpleData.Entries;
        for (var i = 0; i < e.Length / 3; i++) t[e[i * 3]] = (ushort)(i + 1);
        return t;
    }

    private static bool FormsPair(char first, char second)
    {
        if (second is >= '\u1161' and <= '\u1175') return first is >= '\u1100' and <= '\u1112';
        if (second is >= '\u11A8' and <= '\u11C2') return first is >= '\uAC00' and <= '\uD7A3' && (first - 0xAC00) % 28 == 0;
        return FindPair(((uint)first << 16) | second) >= 0;
    }

    // Hand-written: MemoryExtensions.BinarySearch(span, value) boxes the value through IComparable<T>.
    private static int FindPair(uint key)
    {
        var pairs = Pairs;
        int lo = 0, hi = pairs.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var v = pairs[mid];
            if (v == key) return mid;
            if (v < key) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    private static byte[] BuildTable()
    {
        var t = new byte[0x20000];
        var runs = NfkcData.Runs;
        for (var r = 0; r < runs.Length; r++)
        {
            var start = (int)(runs[r] >> 8);
            var end = r + 1 < runs.Length ? (int)(runs[r + 1] >> 8) : t.Length;
            t.AsSpan(start, end - start).Fill((byte)(runs[r] & 0xFF));
        }
        return t;
    }

    private static bool MayFormPair(char first, char second) =>
        (ComposeFlags[second] & SecondOfPair) != 0 && (ComposeFlags[first] & FirstOfPair) != 0;

    private static byte[] BuildComposes()
    {
        var t = new byte[0x10000];
        foreach (var c in NfkcData.ComposingSeconds) t[c] |= SecondOfPair;
        foreach (var pair in NfkcData.Pairs) t[pair >> 16] |= FirstOfPair;
        // Hangul composes arithmetically (FormsPair): leading consonants with vowels, LV syllables with trailing consonants.
        for (var c = 0x1100; c <= 0x1112; c++) t[c] |= FirstOfPair;
        for (var c = 0xAC00; c <= 0xD7A3; c++) t[c] |= FirstOfPair;
        return t;
    }
}
