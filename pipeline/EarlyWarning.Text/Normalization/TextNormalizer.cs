using System.Buffers;
using System.Globalization;
using System.Text;
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
/// spaced letters → collapse repeats. Thread-safe; allocation-free in steady state (pooled scratch buffers; NFKC
/// only calls ICU when the quick check cannot prove the text is already normalised).
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
    }

    public NormalizationSteps Steps { get; }

    /// <summary>Worst-case output length for an input of <paramref name="inputLength"/> chars (NFKC may expand up to 18×).</summary>
    public static int MaxOutputLength(int inputLength) => checked(inputLength * 18 + 16);

    private bool Has(NormalizationSteps s) => (Steps & s) != 0;

    /// <summary>
    /// Normalises <paramref name="input"/> into <paramref name="output"/>. Never throws on malformed text; returns
    /// <see cref="OperationStatus.DestinationTooSmall"/> (with nothing written) when the output is too small.
    /// </summary>
    public OperationStatus Normalize(ReadOnlySpan<char> input, Span<char> output, out int written)
    {
        written = 0;
        char[]? clean = null, zawgyi = null, nfkc = null;
        try
        {
            clean = ArrayPool<char>.Shared.Rent(Math.Max(16, input.Length));
            ReadOnlySpan<char> cur = clean.AsSpan(0, Sanitize(input, clean, Has(NormalizationSteps.StripInvisible)));

            if (Has(NormalizationSteps.ZawgyiToUnicode) && ZawgyiDetector.ContainsMyanmar(cur)
                && (_zawgyi ??= ZawgyiDetector.Default).GetZawgyiProbability(cur) > ZawgyiThreshold)
            {
                zawgyi = ArrayPool<char>.Shared.Rent(cur.Length * 2 + 16);
                if (ZawgyiConverter.TryConvert(cur, zawgyi, out var zn)) cur = zawgyi.AsSpan(0, zn);
            }

            if (Has(NormalizationSteps.Nfkc) && !NfkcQuickCheck.IsKnownNormalized(cur))
            {
                nfkc = ArrayPool<char>.Shared.Rent(cur.Length * 4 + 16);
                if (NfkcQuickCheck.TryNormalizeSimple(cur, nfkc, out var kn) || TryNfkc(cur, ref nfkc, out kn))
                    cur = nfkc.AsSpan(0, kn);
            }

            if (cur.Length > output.Length) return OperationStatus.DestinationTooSmall;
            var len = cur.Length;
            if (Has(NormalizationSteps.CaseFold)) CaseFold(cur, output);
            else cur.CopyTo(output);

            if (Has(NormalizationSteps.Homoglyphs) || Has(NormalizationSteps.Leet)) FoldWords(output[..len]);
            if (Has(NormalizationSteps.JoinSpacedLetters)) len = JoinSpacedLetters(output[..len]);
            if (Has(NormalizationSteps.CollapseRepeats)) len = CollapseRepeats(output[..len]);
            written = len;
            return OperationStatus.Done;
        }
        finally
        {
            if (clean is not null) ArrayPool<char>.Shared.Return(clean);
            if (zawgyi is not null) ArrayPool<char>.Shared.Return(zawgyi);
            if (nfkc is not null) ArrayPool<char>.Shared.Return(nfkc);
        }
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

    private static bool TryNfkc(ReadOnlySpan<char> src, ref char[] buffer, out int written)
    {
        written = 0;
        try
        {
            if (src.TryNormalize(buffer, out written, NormalizationForm.FormKC)) return true;
            var need = src.GetNormalizedLength(NormalizationForm.FormKC);
            ArrayPool<char>.Shared.Return(buffer);
            buffer = ArrayPool<char>.Shared.Rent(need);
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
                if (IsInvisible(c)) continue;
                if (c is >= '\u0080' and <= '\u009F') { dest[w++] = ' '; continue; }
            }
            dest[w++] = c;
        }
        return w;
    }

    private static bool IsInvisible(char c) =>
        c is '\u00AD' or '\u034F' or '\u0640' or '\u061C' or '\u180E' or '\uFEFF'
            or >= '\u200B' and <= '\u200F' or >= '\u202A' and <= '\u202E' or >= '\u2060' and <= '\u206F'
            or >= '\uFE00' and <= '\uFE0F'
        || (c >= '\u0600' && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);

    private static void CaseFold(ReadOnlySpan<char> src, Span<char> dest)
    {
        for (var i = 0; i < src.Length; i++)
        {
            var c = src[i];
            dest[i] = c < '\u0080' ? (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c | 0x20) : c : char.ToLowerInvariant(c);
        }
    }

    private static bool IsLetterLike(char c) =>
        c < '\u0080' ? (uint)((c | 0x20) - 'a') <= 'z' - 'a' : char.IsLetter(c) || IsMark(c);

    private static bool IsMark(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsLeetSymbol(char c) => c is '@' or '$' or '!' or '|';

    private static char LeetOf(char c) => c switch
    {
        '0' => 'o', '1' => 'i', '3' => 'e', '4' => 'a', '5' => 's', '7' => 't', '8' => 'b', '9' => 'g',
        '@' => 'a', '$' => 's', '!' => 'i', '|' => 'l',
        _ => '\0',
    };

    // Homoglyphs and l33t, word by word, in place (both map one char to one char).
    private void FoldWords(Span<char> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (!IsLetterLike(c) && !char.IsAsciiDigit(c)) { i++; continue; }
            var start = i++;
            while (i < s.Length)
            {
                var d = s[i];
                if (IsLetterLike(d) || char.IsAsciiDigit(d)) { i++; continue; }
                // A l33t symbol belongs to the word only inside it: "h@te", "k!ll" (a leading '@' is a mention).
                if (IsLeetSymbol(d) && i + 1 < s.Length && (IsLetterLike(s[i + 1]) || char.IsAsciiDigit(s[i + 1]) || IsLeetSymbol(s[i + 1])))
                { i++; continue; }
                break;
            }
            var word = s[start..i];
            if (Has(NormalizationSteps.Homoglyphs)) FoldHomoglyphs(word);
            if (Has(NormalizationSteps.Leet)) FoldLeet(word);
        }
    }

    private static void FoldHomoglyphs(Span<char> word)
    {
        bool latin = false, confusable = false, other = false;
        foreach (var c in word)
        {
            if (Confusables.IsLatinLetter(c)) latin = true;
            else if (c >= '\u0131' && Confusables.Fold(c) != '\0') confusable = true;
            else if (c >= '\u0080' && char.IsLetter(c)) other = true;
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

    private static bool IsSpacer(char c) => c is ' ' or '.' or '-' or '*' or '_' or '\u00B7';

    // Latin, Greek and Cyrillic single letters (not followed by a combining mark) are candidates for re-joining.
    private static bool IsJoinableLetter(Span<char> s, int i) =>
        i < s.Length && s[i] < '\u0530' && char.IsLetter(s[i])
        && (i + 1 >= s.Length || IsSpacer(s[i + 1]) || !(IsLetterLike(s[i + 1]) || char.IsAsciiDigit(s[i + 1])));

    private static int JoinSpacedLetters(Span<char> s)
    {
        var w = 0;
        var r = 0;
        var prevOriginal = '\0';
        while (r < s.Length)
        {
            var c = s[r];
            var atWordStart = r == 0 || !(IsLetterLike(prevOriginal) || char.IsAsciiDigit(prevOriginal));
            if (atWordStart && IsJoinableLetter(s, r) && r + 1 < s.Length && IsSpacer(s[r + 1]))
            {
                var sep = s[r + 1];
                var count = 1;
                var end = r + 1; // exclusive end of the chain so far
                while (end + 1 < s.Length && s[end] == sep && IsJoinableLetter(s, end + 1)
                       && (end + 2 >= s.Length || s[end + 2] == sep || !(IsLetterLike(s[end + 2]) || char.IsAsciiDigit(s[end + 2]))))
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

    private static int CollapseRepeats(Span<char> s)
    {
        var w = 0;
        var last = '\0';
        var run = 0;
        for (var r = 0; r < s.Length; r++)
        {
            var c = s[r];
            if (c == last && IsLetterLike(c) && !IsMark(c))
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
