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

    /// <summary>The quick-check value of a BMP unit: 0 a stable starter, 1..254 a stable mark's combining class, 255 not stable.</summary>
    internal static byte ValueOf(char c) => Table[c];

    /// <summary>The quick-check value table (U+0000..U+1FFFF) for loops that hoist it.</summary>
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
            if (v == 0) { lastCcc = 0; lastStarter = c; }
            else if (v < lastCcc) return false;
            else lastCcc = v;
        }
        return true;
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
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c < '\u0080') { dest[w++] = c; lastCcc = 0; lastStarter = c; continue; }
            if (char.IsSurrogate(c))
            {
                if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) return false;
                var cp = char.ConvertToUtf32(c, s[i + 1]);
                var sv = cp < 0x20000 ? table[cp] : 255;
                if (sv == 255 || (sv != 0 && sv < lastCcc)) return false;
                if (sv == 0) { lastCcc = 0; lastStarter = '\0'; } else lastCcc = sv;
                dest[w++] = c;
                dest[w++] = s[++i];
                continue;
            }
            int v = table[c];
            if (v == 255)
            {
                var e = simple[c] - 1;
                if (e < 0) return false;
                int off = entries[e * 3 + 1], len = entries[e * 3 + 2];
                pool.AsSpan(off, len).CopyTo(dest[w..]);
                w += len;
                lastCcc = 0;
                lastStarter = pool[off + len - 1];
                continue;
            }
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
            if (v == 0) { lastCcc = 0; lastStarter = c; }
            else if (v < lastCcc)
            {
                // Canonical reordering ("်" + "့" typed as U+103A U+1037 → U+1037 U+103A): insert c before the
                // marks of higher combining class. Sound here because every composing mark was already checked.
                var k = w;
                while (k > 0 && dest[k - 1] < '\uD800' && table[dest[k - 1]] is > 0 and < 255 && table[dest[k - 1]] > v) k--;
                if (k > 0 && char.IsSurrogate(dest[k - 1])) return false;
                dest.Slice(k, w - k).CopyTo(dest[(k + 1)..]);
                dest[k] = c;
                w++;
                continue;
            }
            else lastCcc = v;
            dest[w++] = c;
        }
        written = w;
        return true;
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
