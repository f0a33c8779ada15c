using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using EarlyWarning.Text.Internal;
using EarlyWarning.Text.Myanmar;

namespace EarlyWarning.Text.Normalization;

/// <summary>Which normalisation steps run; each is switchable and tested on its own.</summary>
[Flags]
public enum NormalizationSteps
{
    None = 0,
    /// <summary>Unicode NFKC (fullwidth, mathematical and circled letters, ligatures, compatibility forms).</summary>
    Nfkc = 1 << 0,
    /// <summary>Lower case (invariant culture).</summary>
    CaseFold = 1 << 1,
    /// <summary>Drops zero-width, bidi, format characters, variation selectors, soft hyphen and tatweel; controls become spaces.</summary>
    StripInvisible = 1 << 2,
    /// <summary>Cyrillic/Greek look-alikes folded to Latin in words that mix them with Latin (or consist only of look-alikes).</summary>
    Homoglyphs = 1 << 3,
    /// <summary>Repeated letters: Latin, Greek and Cyrillic runs become one letter; other scripts keep at most two.</summary>
    CollapseRepeats = 1 << 4,
    /// <summary>l33t digits and symbols inside words (0→o 1→i 3→e 4→a 5→s 7→t 8→b 9→g @→a $→s !→i |→l).</summary>
    Leet = 1 << 5,
    /// <summary>Three or more single letters separated by one space, dot, dash, star or underscore are re-joined ("k i l l").</summary>
    JoinSpacedLetters = 1 << 6,
    /// <summary>Zawgyi-encoded Burmese (detector probability above 0.95) is converted to Unicode through ICU.</summary>
    ZawgyiToUnicode = 1 << 7,
    Default = Nfkc | CaseFold | StripInvisible | Homoglyphs | CollapseRepeats | Leet | JoinSpacedLetters | ZawgyiToUnicode,
}

/// <summary>
/// Unicode normalisation and de-obfuscation into a caller-provided buffer. Order: strip invisible characters (lone
/// surrogates always become U+FFFD) → Zawgyi to Unicode → NFKC → case fold → homoglyphs and l33t per word → re-join
/// spaced letters → collapse repeats. Thread-safe; allocation-free in steady state (per-thread scratch buffers; NFKC
/// only calls ICU when the quick check cannot prove the text is already normalised). Pure ASCII text skips the
/// Unicode steps (vectorised lower-casing); other text, under the default steps, is sanitised, checked for NFKC and
/// case-folded in one table-driven pass unless it needs NFKC or Zawgyi conversion (then the steps run one by one).
/// Character properties come from precomputed tables, and word-level steps are skipped when a vectorised scan shows
/// they cannot change the text; the output is identical either way. Runs of more than 30 combining marks (crafted
/// text, no language) get grapheme joiners before NFKC, as in UAX #15's stream-safe format, so no post costs more
/// than milliseconds.
/// </summary>
public sealed class TextNormalizer
{
    /// <summary>Zawgyi probability above which Burmese text is converted.</summary>
    public const double ZawgyiThreshold = 0.95;

    private ZawgyiDetector? _zawgyi;

    public TextNormalizer(NormalizationSteps steps = NormalizationSteps.Default) : this(steps, null) { }

    /// <summary>With an explicit Zawgyi detector (otherwise <see cref="ZawgyiDetector.Default"/> is loaded on first Burmese text).</summary>
    public TextNormalizer(NormalizationSteps steps, ZawgyiDetector? zawgyiDetector)
    {
        Steps = steps;
        _zawgyi = zawgyiDetector;
        const NormalizationSteps fusedSteps = NormalizationSteps.StripInvisible | NormalizationSteps.Nfkc | NormalizationSteps.CaseFold;
        _fused = (steps & fusedSteps) == fusedSteps;
    }

    // Whether the one-pass sanitise + NFKC check + case fold applies (the default steps: all three on).
    private readonly bool _fused;

    public NormalizationSteps Steps { get; }

    /// <summary>Worst-case output length for an input of <paramref name="inputLength"/> chars (NFKC may expand up to 18×).</summary>
    public static int MaxOutputLength(int inputLength) => checked(inputLength * 18 + 16);

    private bool Has(NormalizationSteps s) => (Steps & s) != 0;

    /// <summary>
    /// Normalises <paramref name="input"/> into <paramref name="output"/>. Never throws on malformed text; returns
    /// <see cref="OperationStatus.DestinationTooSmall"/> (with nothing written) when the output is too small.
    /// </summary>
    public OperationStatus Normalize(ReadOnlySpan<char> input, Span<char> output, out int written) =>
        Normalize(input, output, out written, null);

    /// <summary><see cref="Normalize(ReadOnlySpan{char}, Span{char}, out int)"/> with the thread's scratch when the caller holds it.</summary>
    internal OperationStatus Normalize(ReadOnlySpan<char> input, Span<char> output, out int written, ThreadScratch? scratch)
    {
        written = 0;
        // Fast path: pure ASCII text cannot hold Zawgyi, is already NFKC, and case-folds and sanitises with
        // vectorised primitives; the word-level steps below are the same for both paths.
        int len;
        // Homoglyph folding changes only words holding a unit in its ranges (U+0131..U+052F, U+1D00..U+1D22): never
        // ASCII text, nor text the fused pass saw none in.
        var homoglyphs = Has(NormalizationSteps.Homoglyphs);
        if (Has(NormalizationSteps.CaseFold) ? TryLowerAscii(input, output) : TryCopyAscii(input, output))
        {
            len = input.Length;
            if (Has(NormalizationSteps.StripInvisible)) ReplaceAsciiControls(output[..len]);
            homoglyphs = false;
        }
        else if (_fused && TryFusedPass(input, output, out len, out var confusable)) homoglyphs &= confusable;
        else
        {
            var status = NormalizeGeneral(input, output, out len, scratch ?? ThreadScratch.Current);
            if (status != OperationStatus.Done) return status;
        }
        if (homoglyphs || Has(NormalizationSteps.Leet)) FoldWords(output[..len], homoglyphs, Has(NormalizationSteps.Leet));
        if (Has(NormalizationSteps.JoinSpacedLetters)) len = JoinSpacedLetters(output[..len]);
        if (Has(NormalizationSteps.CollapseRepeats)) len = CollapseRepeats(output[..len]);
        written = len;
        return OperationStatus.Done;
    }

    // True (with the text lower-cased into output) when input is all ASCII and fits.
    private static bool TryLowerAscii(ReadOnlySpan<char> input, Span<char> output) =>
        input.Length <= output.Length && Ascii.ToLower(input, output, out _) == OperationStatus.Done;

    private static bool TryCopyAscii(ReadOnlySpan<char> input, Span<char> output)
    {
        if (input.Length > output.Length || !Ascii.IsValid(input)) return false;
        input.CopyTo(output);
        return true;
    }

    private static readonly SearchValues<char> AsciiControls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    // StripInvisible on ASCII: controls other than '\n' become spaces (as Sanitize does).
    private static void ReplaceAsciiControls(Span<char> s)
    {
        int i;
        while ((i = s.IndexOfAny(AsciiControls)) >= 0)
        {
            s[i] = ' ';
            s = s[(i + 1)..];
        }
    }

    // Sanitise -> Zawgyi -> NFKC -> case fold, for text with non-ASCII characters.
    internal OperationStatus NormalizeGeneral(ReadOnlySpan<char> input, Span<char> output, out int written, ThreadScratch scratch)
    {
        written = 0;
        char[]? clean = null, zawgyi = null, nfkc = null, joined = null;
        try
        {
            var cleanBuf = ThreadScratch.Get(scratch.Clean, Math.Max(16, input.Length), ref clean);
            ReadOnlySpan<char> cur = cleanBuf.AsSpan(0, Sanitize(input, cleanBuf, Has(NormalizationSteps.StripInvisible)));

            // Runs of more than 30 marks (no language needs them; a crafted post of thousands would make canonical
            // reordering in ICU take seconds) get grapheme joiners first, as UAX #15's stream-safe format does.
            if ((Has(NormalizationSteps.Nfkc) || Has(NormalizationSteps.ZawgyiToUnicode)) && NfkcQuickCheck.NeedsJoiners(cur))
            {
                joined = ArrayPool<char>.Shared.Rent(cur.Length + cur.Length / NfkcQuickCheck.MaxNonStarters + 1);
                cur = joined.AsSpan(0, NfkcQuickCheck.InsertJoiners(cur, joined));
            }

            if (Has(NormalizationSteps.ZawgyiToUnicode) && ZawgyiDetector.ContainsMyanmar(cur)
                && (_zawgyi ??= ZawgyiDetector.Default).GetZawgyiProbability(cur) > ZawgyiThreshold)
            {
                var zawgyiBuf = ThreadScratch.Get(scratch.Zawgyi, cur.Length * 2 + 16, ref zawgyi);
                if (ZawgyiConverter.TryConvert(cur, zawgyiBuf, out var zn)) cur = zawgyiBuf.AsSpan(0, zn);
            }

            if (Has(NormalizationSteps.Nfkc) && !NfkcQuickCheck.IsKnownNormalized(cur))
            {
                var nfkcBuf = ThreadScratch.Get(scratch.Nfkc, cur.Length * 4 + 16, ref nfkc);
                if (NfkcQuickCheck.TryNormalizeSimple(cur, nfkcBuf, out var kn)
                    || TryNfkc(cur, ref nfkcBuf, ref nfkc, out kn)) cur = nfkcBuf.AsSpan(0, kn);
            }

            if (cur.Length > output.Length) return OperationStatus.DestinationTooSmall;
            if (Has(NormalizationSteps.CaseFold)) CaseFold(cur, output);
            else cur.CopyTo(output);
            written = cur.Length;
            return OperationStatus.Done;
        }
        finally
        {
            ThreadScratch.Return(clean);
            ThreadScratch.Return(zawgyi);
            ThreadScratch.Return(nfkc);
            ThreadScratch.Return(joined);
        }
    }

    // Per BMP unit for the fused pass: bits 0-15 what the unit becomes when it is an ordinary starter (lower case;
    // a control character other than '\n' becomes a space), Unusual when it needs a closer look (a surrogate, an
    // invisible character, a mark or an NFKC-unstable unit, or the second of a composing pair), Myanmar for the
    // Zawgyi check, Confusable (bit 31) when what the unit becomes holds a unit of the homoglyph ranges, and in bits
    // 18-30 the number (from 1) of the unit's NFKC expansion when it has a safe one. 256 KiB; each script touches a
    // few cache lines of it.
    private const uint Unusual = 1u << 16, MyanmarUnit = 1u << 17, ConfusableUnit = 1u << 31;
    private const int ExpansionShift = 18; // bits 18-30: up to 8,191 expansions (2,753 in the data)
    private static readonly uint[] Fused;
    // Safe expansions, lower-cased: entry k - 1 is ExpansionPool[offset .. offset + length), ExpansionAt = offset << 8 | length.
    private static readonly uint[] ExpansionAt;
    private static readonly char[] ExpansionPool;
    private static readonly char[] ExpansionLast; // each expansion's last unit before case folding

    static TextNormalizer()
    {
        var t = new uint[0x10000];
        Span<char> one = stackalloc char[1];
        for (var u = 0; u <= 0xFFFF; u++)
        {
            var c = (char)u;
            uint e = (c < ' ' && c != '\n') || c is >= '\u007F' and <= '\u009F' ? ' ' : CharTable.ToLower(c);
            if (char.IsSurrogate(c) || CharTable.Has(c, CharTable.Invisible) || NfkcQuickCheck.Values[c] != 0 || NfkcQuickCheck.IsSecondOfPair(c))
                e |= Unusual;
            one[0] = c;
            if (ZawgyiDetector.ContainsMyanmar(one)) e |= MyanmarUnit;
            if (IsConfusableRange(c) || IsConfusableRange(CharTable.ToLower(c))) e |= ConfusableUnit;
            t[u] = e;
        }
        // NFKC of "…", NBSP, fullwidth and superscript forms and the like: 1-4 stable starters that nothing before
        // can compose with (none is the second of a pair). Units the Zawgyi model tells apart (U+2000..U+200B) are
        // left to the general path, which runs the detector before NFKC.
        var entries = NfkcSimpleData.Entries;
        var at = new List<uint>();
        var pool = new List<char>();
        var last = new List<char>();
        for (var k = 0; k < entries.Length; k += 3)
        {
            var c = (char)entries[k];
            var expansion = NfkcSimpleData.Pool.AsSpan(entries[k + 1], entries[k + 2]);
            if (c is >= '\u2000' and <= '\u200B' || CharTable.Has(c, CharTable.Invisible)) continue;
            var safe = true;
            foreach (var x in expansion) safe &= NfkcQuickCheck.Values[x] == 0 && !NfkcQuickCheck.IsSecondOfPair(x);
            if (!safe) continue;
            at.Add((uint)pool.Count << 8 | (uint)expansion.Length);
            last.Add(expansion[^1]);
            foreach (var x in expansion)
            {
                pool.Add(CharTable.ToLower(x));
                if (IsConfusableRange(CharTable.ToLower(x))) t[c] |= ConfusableUnit;
            }
            t[c] |= (uint)at.Count << ExpansionShift;
        }
        if (at.Count > 0x1FFF) throw new InvalidOperationException("too many NFKC expansions for the fused table's bits");
        Fused = t;
        ExpansionAt = [.. at];
        ExpansionPool = [.. pool];
        ExpansionLast = [.. last];
    }

    // Sanitise, check NFKC and case fold in one pass straight into output, for the default steps: exact whenever the
    // sanitised text is NFKC already but for safe expansions and marks out of canonical order (both done here) and is
    // not Zawgyi. Returns false, having written garbage, when it cannot decide (another unstable unit, a composing
    // pair, a mark below the class its starter's decomposition ends in, a run of more than 30 marks, a supplementary
    // mark, Zawgyi): the general path then starts again from the input. confusable says whether the written text holds
    // a unit of the homoglyph ranges.
    internal bool TryFusedPass(ReadOnlySpan<char> input, Span<char> output, out int written, out bool confusable)
    {
        written = 0;
        confusable = false;
        if (input.Length > output.Length) return false;
        ref var fused = ref MemoryMarshal.GetArrayDataReference(Fused);
        var values = NfkcQuickCheck.Values;
        var seen = 0u;
        var w = 0;
        int lastCcc = 0;
        var lastStarter = '\0';
        bool reordered = false, dropped = false;
        int runStart = 0, unsorted = -1; // the current run of marks; the start of a run to sort, or -1
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            var e = Unsafe.Add(ref fused, c);
            seen |= e;
            if ((e & Unusual) == 0)
            {
                output[w++] = (char)e;
                lastCcc = 0;
                lastStarter = c;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]))
                {
                    var cp = char.ConvertToUtf32(c, input[i + 1]);
                    var sv = cp < 0x20000 ? values[cp] : 255;
                    if (sv != 0) return false; // unstable, or a supplementary mark (rare): the general path
                    lastCcc = 0;
                    lastStarter = '\0';
                    output[w++] = c; // surrogates have no case
                    output[w++] = input[++i];
                    continue;
                }
                c = '\uFFFD'; // a lone surrogate, as Sanitize writes it
            }
            else if (CharTable.Has(c, CharTable.Invisible))
            {
                dropped = true;
                continue;
            }
            int v = values[c];
            if (v == 255)
            {
                var x = (int)((e >> ExpansionShift) & 0x1FFF) - 1;
                if (x < 0) return false;
                var at = ExpansionAt[x];
                var len = (int)(at & 0xFF);
                // Keeps room for the rest of the input one unit per unit, so the other writes need no check.
                if (w + len + (input.Length - i - 1) > output.Length) return false;
                ExpansionPool.AsSpan((int)(at >> 8), len).CopyTo(output[w..]);
                w += len;
                lastCcc = 0;
                lastStarter = ExpansionLast[x]; // as written before case folding, for the pair test
                continue;
            }
            if (NfkcQuickCheck.Composes(lastStarter, c)) return false;
            if (v == 0) { lastCcc = 0; lastStarter = c; }
            else
            {
                // Below the class the starter's decomposition ends in (â + ◌̣ is ậ): the general path decides.
                if (v < NfkcQuickCheck.TrailingClass[lastStarter]) return false;
                if (lastCcc == 0)
                {
                    // A new run of marks; a run written earlier out of order is sorted first (it ends at the first
                    // unit after it that is not a mark, wherever the fast path wrote that).
                    if (unsorted >= 0) { NfkcQuickCheck.SortMarks(output, unsorted, w); unsorted = -1; }
                    runStart = w;
                }
                else if (w - runStart >= NfkcQuickCheck.MaxNonStarters) return false; // the general path adds a joiner
                // Canonical reordering (Burmese "်" + "့" typed as U+103A U+1037 becomes U+1037 U+103A): the run is
                // sorted by class once it ends, as TryNormalizeSimple does; sound because any pair c forms with the
                // starter was tested above. Marks have no case (tests check every unit), so the written units hold
                // their classes.
                if (v < lastCcc) { unsorted = runStart; reordered = true; }
                else lastCcc = v;
            }
            output[w++] = CharTable.ToLower(c);
        }
        if (unsorted >= 0) NfkcQuickCheck.SortMarks(output, unsorted, w);
        // The general path runs the Zawgyi detector on the sanitised text, before NFKC. Lower case never moves a unit
        // into or out of the model's states, nor do the expansions (tests check every unit), and sanitising only
        // turns units of state 0 into others of state 0 (controls into spaces, lone surrogates into U+FFFD) unless
        // it drops an invisible one: so the detector reads the written text when nothing was reordered, else the
        // input when nothing was dropped, and otherwise the general path decides.
        if ((seen & MyanmarUnit) != 0 && Has(NormalizationSteps.ZawgyiToUnicode))
        {
            if (reordered && dropped) return false;
            if ((_zawgyi ??= ZawgyiDetector.Default).GetZawgyiProbability(reordered ? input : output[..w]) > ZawgyiThreshold) return false;
        }
        written = w;
        confusable = (seen & ConfusableUnit) != 0;
        return true;
    }

    /// <summary>Convenience overload that allocates; not for the hot path.</summary>
    public string Normalize(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var buffer = ArrayPool<char>.Shared.Rent(MaxOutputLength(input.Length));
        try
        {
            return Normalize(input, buffer, out var n) == OperationStatus.Done ? new string(buffer, 0, n) : string.Empty;
        }
        finally { ArrayPool<char>.Shared.Return(buffer); }
    }

    // NFKC through ICU into buffer; when ICU needs more room (one character can expand to 18), rents the exact
    // need, recorded in rented so the caller returns it.
    private static bool TryNfkc(ReadOnlySpan<char> src, ref char[] buffer, ref char[]? rented, out int written)
    {
        written = 0;
        try
        {
            if (src.TryNormalize(buffer, out written, NormalizationForm.FormKC)) return true;
            var need = src.GetNormalizedLength(NormalizationForm.FormKC);
            ThreadScratch.Return(rented);
            rented = null;
            buffer = ThreadScratch.Get(Array.Empty<char>(), need, ref rented);
            return src.TryNormalize(buffer, out written, NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return false; // cannot happen after Sanitize (no lone surrogates); keep the text as it is
        }
    }

    // Copies input to dest: lone surrogates become U+FFFD (so ICU never sees ill-formed text); when stripping,
    // invisible characters are dropped and control characters become spaces. Never longer than the input.
    private static int Sanitize(ReadOnlySpan<char> input, Span<char> dest, bool strip)
    {
        var w = 0;
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (c < '\u0080')
            {
                dest[w++] = strip && (c < ' ' || c == '\u007F') && c != '\n' ? ' ' : c;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]))
                {
                    dest[w++] = c;
                    dest[w++] = input[++i];
                }
                else dest[w++] = '\uFFFD';
                continue;
            }
            if (strip)
            {
                if (CharTable.Has(c, CharTable.Invisible)) continue;
                if (c is >= '\u0080' and <= '\u009F') { dest[w++] = ' '; continue; }
            }
            dest[w++] = c;
        }
        return w;
    }

    private static void CaseFold(ReadOnlySpan<char> src, Span<char> dest)
    {
        for (var i = 0; i < src.Length; i++)
        {
            var c = src[i];
            dest[i] = CharTable.ToLower(c);
        }
    }

    // A letter-like character or an ASCII digit: what a word is made of for the word-level steps.
    private static bool IsWordy(char c) => CharTable.Has(c, CharTable.LetterLike | CharTable.AsciiDigit);

    private static bool IsLeetSymbol(char c) => c is '@' or '$' or '!' or '|';

    private static char LeetOf(char c) => c switch
    {
        '0' => 'o', '1' => 'i', '3' => 'e', '4' => 'a', '5' => 's', '7' => 't', '8' => 'b', '9' => 'g',
        '@' => 'a', '$' => 's', '!' => 'i', '|' => 'l',
        _ => '\0',
    };

    // Homoglyphs and l33t, word by word, in place (both map one char to one char). Only a word holding a character
    // at or above U+0131 (homoglyphs) or a digit or l33t symbol (l33t) can change, so the scan jumps from one such
    // character to the next with vectorised searches and folds just the words around them.
    internal static void FoldWords(Span<char> s, bool homoglyphs, bool leet)
    {
        int nextLeet = -1, nextHigh = -1;
        var i = 0;
        while (i < s.Length)
        {
            if (nextLeet < i) nextLeet = leet ? IndexFrom(s, i, s[i..].IndexOfAny(LeetChars)) : int.MaxValue;
            if (nextHigh < i) nextHigh = homoglyphs ? IndexFrom(s, i, IndexOfConfusableRange(s[i..])) : int.MaxValue;
            var next = Math.Min(nextLeet, nextHigh);
            if (next == int.MaxValue) return;
            // A character that is neither part of a word nor a l33t symbol ends any word, so the word scan can
            // start right after the last such character before the match, as if it had run from the beginning.
            var j = next;
            while (j > i && (IsWordy(s[j - 1]) || IsLeetSymbol(s[j - 1]))) j--;
            i = j;
            while (i <= next && i < s.Length) i = FoldWordAt(s, i, homoglyphs, leet);
        }
    }

    private static int IndexFrom(ReadOnlySpan<char> s, int offset, int found) => found < 0 ? int.MaxValue : offset + found;

    // One step of the word scan at i: past a character outside words, or past the word starting there (folded when
    // it holds what a step acts on). Returns where the scan goes on.
    internal static int FoldWordAt(Span<char> s, int i, bool homoglyphs, bool leet)
    {
        var c = s[i];
        if (!IsWordy(c)) return i + 1;
        var start = i++;
        var high = IsConfusableRange(c);
        var symbols = char.IsAsciiDigit(c);
        while (i < s.Length)
        {
            var d = s[i];
            if (IsWordy(d))
            {
                high |= IsConfusableRange(d);
                symbols |= char.IsAsciiDigit(d);
                i++;
                continue;
            }
            // A l33t symbol belongs to the word only inside it: "h@te", "k!ll" (a leading '@' is a mention).
            if (IsLeetSymbol(d) && i + 1 < s.Length && (IsWordy(s[i + 1]) || IsLeetSymbol(s[i + 1])))
            {
                symbols = true;
                i++;
                continue;
            }
            break;
        }
        var word = s[start..i];
        if (homoglyphs && high) FoldHomoglyphs(word);
        if (leet && symbols) FoldLeet(word);
        return i;
    }

    private static readonly SearchValues<char> LeetChars = SearchValues.Create("0123456789@$!|");

    // Confusables.Fold is non-zero only in U+0131..U+052F and U+1D00..U+1D22.
    private static bool IsConfusableRange(char c) => (uint)(c - '\u0131') <= 0x052F - 0x0131 || (uint)(c - '\u1D00') <= 0x22;

    private static int IndexOfConfusableRange(ReadOnlySpan<char> s)
    {
        var a = s.IndexOfAnyInRange('\u0131', '\u052F');
        var b = s[..(a < 0 ? s.Length : a)].IndexOfAnyInRange('\u1D00', '\u1D22');
        return b >= 0 ? b : a;
    }

    private static void FoldHomoglyphs(Span<char> word)
    {
        bool latin = false, confusable = false, other = false;
        foreach (var c in word)
        {
            if (Confusables.IsLatinLetter(c)) latin = true;
            else if (c >= '\u0131' && Confusables.Fold(c) != '\0') confusable = true;
            else if (c >= '\u0080' && CharTable.Has(c, CharTable.Letter)) other = true;
        }
        if (!confusable || (!latin && other)) return;
        for (var i = 0; i < word.Length; i++)
        {
            if (word[i] < '\u0131') continue;
            var f = Confusables.Fold(word[i]);
            if (f != '\0') word[i] = f;
        }
    }

    private static void FoldLeet(Span<char> word)
    {
        var letters = 0;
        var hasLeet = false;
        foreach (var c in word)
        {
            if (char.IsAsciiDigit(c) || IsLeetSymbol(c)) hasLeet = true;
            else letters++;
        }
        if (!hasLeet || letters == 0) return;
        var i = 0;
        while (i < word.Length)
        {
            if (!char.IsAsciiDigit(word[i]) && !IsLeetSymbol(word[i])) { i++; continue; }
            var start = i;
            var mappable = true;
            while (i < word.Length && (char.IsAsciiDigit(word[i]) || IsLeetSymbol(word[i])))
            {
                if (LeetOf(word[i]) == '\0') mappable = false;
                i++;
            }
            var interior = start > 0 && i < word.Length;
            // Interior digits ("k1ll", "n1gg3r") or one digit at an edge of a real word ("1diot"), not "covid19".
            if (mappable && (interior || (i - start == 1 && letters >= 2)))
                for (var j = start; j < i; j++) word[j] = LeetOf(word[j]);
        }
    }

    internal static bool IsSpacer(char c) => c is ' ' or '.' or '-' or '*' or '_' or '\u00B7';

    // Latin, Greek and Cyrillic single letters (not followed by a combining mark) are candidates for re-joining.
    private static bool IsJoinableLetter(Span<char> s, int i) =>
        i < s.Length && s[i] < '\u0530' && CharTable.Has(s[i], CharTable.Letter)
        && (i + 1 >= s.Length || IsSpacer(s[i + 1]) || !IsWordy(s[i + 1]));

    // A chain of three spaced letters starting at q needs the same spacer at p = q + 1 and p + 2 with a letter that
    // can be joined between them (Latin, Greek or Cyrillic: ASCII letters or U+0080..U+052F here, a superset), letters
    // at q and p + 3, and no word character before q. Sixteen positions at a time are screened for the spacers and the
    // middle letter where vectors are accelerated, and each hit is checked for the rest: a text without such a chain
    // ("...", runs of spaces, "have a dog") is left as it is.
    internal static bool MayHaveSpacedLetters(ReadOnlySpan<char> s)
    {
        var p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var s0 = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(s));
            for (; p + 2 + Vector256<ushort>.Count <= s.Length; p += Vector256<ushort>.Count)
            {
                var a = Vector256.LoadUnsafe(ref s0, (nuint)p);
                var m = Vector256.LoadUnsafe(ref s0, (nuint)p + 1);
                var b = Vector256.LoadUnsafe(ref s0, (nuint)p + 2);
                var spacer = Vector256.Equals(a, Vector256.Create((ushort)' ')) | Vector256.Equals(a, Vector256.Create((ushort)'.'))
                    | Vector256.Equals(a, Vector256.Create((ushort)'-')) | Vector256.Equals(a, Vector256.Create((ushort)'*'))
                    | Vector256.Equals(a, Vector256.Create((ushort)'_')) | Vector256.Equals(a, Vector256.Create((ushort)'\u00B7'));
                var letter = Vector256.LessThanOrEqual((m | Vector256.Create((ushort)0x20)) - Vector256.Create((ushort)'a'), Vector256.Create((ushort)('z' - 'a')))
                    | Vector256.LessThanOrEqual(m - Vector256.Create((ushort)0x80), Vector256.Create((ushort)(0x052F - 0x80)));
                var hits = (Vector256.Equals(a, b) & spacer & letter).ExtractMostSignificantBits();
                for (; hits != 0; hits &= hits - 1)
                    if (ChainMayStartBefore(s, p + BitOperations.TrailingZeroCount(hits))) return true;
            }
        }
        for (; p + 2 < s.Length; p++)
            if (s[p] == s[p + 2] && IsSpacer(s[p]) && MayBeJoinableLetter(s[p + 1]) && ChainMayStartBefore(s, p)) return true;
        return false;
    }

    // The rest of the test for a chain starting at q = p - 1, given the spacers at p and p + 2 and the letter between.
    internal static bool ChainMayStartBefore(ReadOnlySpan<char> s, int p) =>
        p >= 1 && p + 3 < s.Length && MayBeJoinableLetter(s[p - 1]) && MayBeJoinableLetter(s[p + 3]) && (p == 1 || !IsWordy(s[p - 2]));

    internal static bool MayBeJoinableLetter(char c) => (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - 0x80) <= 0x052F - 0x80;

    // The first position holding the same character as the one before it, or -1: nothing before it can collapse.
    private static int FirstRepeat(ReadOnlySpan<char> s)
    {
        var i = 1;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var s0 = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(s));
            for (; i + Vector256<ushort>.Count <= s.Length; i += Vector256<ushort>.Count)
            {
                var eq = Vector256.Equals(Vector256.LoadUnsafe(ref s0, (nuint)i), Vector256.LoadUnsafe(ref s0, (nuint)i - 1));
                if (eq != Vector256<ushort>.Zero) return i + BitOperations.TrailingZeroCount(eq.ExtractMostSignificantBits());
            }
        }
        for (; i < s.Length; i++)
            if (s[i] == s[i - 1]) return i;
        return -1;
    }

    private static int JoinSpacedLetters(Span<char> s) => MayHaveSpacedLetters(s) ? JoinSpacedLettersAlways(s) : s.Length;

    // The join itself, without the filter (tests check the filter never skips a text this would change).
    internal static int JoinSpacedLettersAlways(Span<char> s)
    {
        var w = 0;
        var r = 0;
        var prevOriginal = '\0';
        while (r < s.Length)
        {
            var c = s[r];
            var atWordStart = r == 0 || !IsWordy(prevOriginal);
            if (atWordStart && IsJoinableLetter(s, r) && r + 1 < s.Length && IsSpacer(s[r + 1]))
            {
                var sep = s[r + 1];
                var count = 1;
                var end = r + 1; // exclusive end of the chain so far
                while (end + 1 < s.Length && s[end] == sep && IsJoinableLetter(s, end + 1)
                       && (end + 2 >= s.Length || s[end + 2] == sep || !IsWordy(s[end + 2])))
                {
                    count++;
                    end += 2;
                }
                if (count >= 3)
                {
                    prevOriginal = s[end - 1];
                    for (var k = r; k < end; k += 2) s[w++] = s[k];
                    r = end;
                    continue;
                }
            }
            prevOriginal = c;
            s[w++] = c;
            r++;
        }
        return w;
    }

    internal static int CollapseRepeats(Span<char> s)
    {
        // Up to the first pair of equal neighbours every character is kept as it is, with no run in progress.
        var first = FirstRepeat(s);
        if (first < 0) return s.Length;
        var w = first;
        var last = s[first - 1];
        var run = 0;
        for (var r = first; r < s.Length; r++)
        {
            var c = s[r];
            if (c == last && (CharTable.Of(c) & (CharTable.LetterLike | CharTable.Mark)) == CharTable.LetterLike)
            {
                run++;
                if (c < '\u0530' || run >= 2) continue; // Latin/Greek/Cyrillic keep one; other scripts keep two
            }
            else run = 0;
            s[w++] = c;
            last = c;
        }
        return w;
    }
}
