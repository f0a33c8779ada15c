using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using EarlyWarning.Text.Internal;

namespace EarlyWarning.Text.Tokenization;

/// <summary>What a token is.</summary>
public enum TokenKind : byte
{
    /// <summary>A word of a space-delimited script.</summary>
    Word,
    /// <summary>Digits (ASCII or Myanmar).</summary>
    Number,
    Url,
    Mention,
    Hashtag,
    Emoji,
    /// <summary>A Burmese (Myanmar script) syllable.</summary>
    Syllable,
    /// <summary>Two adjacent character clusters of a script written without spaces (Thai, Lao, Khmer, Tibetan, CJK).</summary>
    CharNgram,
}

/// <summary>A token as a slice of the text it came from (no string per token).</summary>
public readonly record struct Token(int Start, int Length, TokenKind Kind);

/// <summary>
/// Splits normalised text into tokens without allocating: <c>foreach (var t in Tokenizer.Tokenize(text))</c>.
/// Words for space-delimited scripts, syllables for Burmese, overlapping character-cluster bigrams for other scripts
/// written without spaces; URLs, @mentions, #hashtags and emoji are tokens of their own.
/// </summary>
public static class Tokenizer
{
    public static TokenEnumerator Tokenize(ReadOnlySpan<char> text) => new(text);
}

/// <summary>A <c>ref struct</c> enumerator over the tokens of a text.</summary>
public ref struct TokenEnumerator
{
    private const byte Sep = 0, Letter = 1, Digit = 2, Hash = 3, At = 4, Apostrophe = 5, Underscore = 6;

    private readonly ReadOnlySpan<char> _text;
    private int _pos;
    private int _runEnd;     // end of the current Burmese or no-space run
    private byte _mode;      // 0 = normal, 1 = Burmese syllables, 2 = cluster bigrams
    private bool _runStart;  // at the first cluster of a no-space run

    public TokenEnumerator(ReadOnlySpan<char> text)
    {
        _text = text;
        _pos = 0;
        _runEnd = 0;
        _mode = 0;
        _runStart = false;
        Current = default;
    }

    public Token Current { get; private set; }

    public readonly TokenEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        var t = _text;
        while (true)
        {
            if (_mode == 1)
            {
                if (_pos < _runEnd)
                {
                    var start = _pos;
                    var end = SyllableEnd(t, start, _runEnd);
                    _pos = end;
                    Current = new Token(start, end - start, (Classes[t[start]] & BurmeseDigit) != 0 ? TokenKind.Number : TokenKind.Syllable);
                    return true;
                }
                _mode = 0;
            }
            else if (_mode == 2)
            {
                if (_pos < _runEnd)
                {
                    var start = _pos;
                    var c1 = ClusterEnd(t, start, _runEnd);
                    if (c1 >= _runEnd)
                    {
                        _pos = _runEnd;
                        if (_runStart) { _runStart = false; Current = new Token(start, c1 - start, TokenKind.CharNgram); return true; }
                        _mode = 0;
                        continue;
                    }
                    var c2 = ClusterEnd(t, c1, _runEnd);
                    _runStart = false;
                    _pos = c1;
                    Current = new Token(start, c2 - start, TokenKind.CharNgram);
                    return true;
                }
                _mode = 0;
            }

            var i = NextTokenStart(t, _pos, out var f);
            if (i >= t.Length) { _pos = i; return false; }
            var c = t[i];

            if (IsPlainStart(t, i, f))
            {
                var end = PlainTokenEnd(t, i, f, out var digitsOnly);
                _pos = end;
                Current = new Token(i, end - i, digitsOnly ? TokenKind.Number : TokenKind.Word);
                return true;
            }

            ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
            if (Burmese.IsRunChar(c))
            {
                _pos = i; _runEnd = BurmeseRunEnd(t, i); _mode = 1;
                continue;
            }
            if (IsNoSpaceScript(t, i))
            {
                var e = i + 1;
                while (e < t.Length && (IsNoSpaceScript(t, e) || IsMarkAt(t, e))) e++;
                _pos = i; _runEnd = e; _mode = 2; _runStart = true;
                continue;
            }

            var begin = i;
            TokenKind kind;
            if (c is '#' or '@')
            {
                kind = c == '#' ? TokenKind.Hashtag : TokenKind.Mention;
                i = TagEnd(t, i);
                if (i == begin + 1) { _pos = i; continue; } // a lone '#' or '@'
            }
            else if (c is 'h' or 'w' && IsUrlStart(t[i..]))
            {
                kind = TokenKind.Url;
                while (i < t.Length && !char.IsWhiteSpace(t[i])) i++;
            }
            else if (IsEmoji(t, i))
            {
                kind = TokenKind.Emoji;
                i += Step(t, i);
                // Keep modifiers, variation selectors, joiners and keycaps with their emoji.
                while (i < t.Length && (t[i] is '\uFE0F' or '\u200D' or '\u20E3' || IsSkinTone(t, i))) i += Step(t, i);
            }
            else
            {
                var allDigits = true;
                while (i < t.Length)
                {
                    var d = t[i];
                    if (d < '\u0080')
                    {
                        // ASCII letters, digits and '_' are word characters of no special script.
                        var k = AsciiClass[d];
                        if (k is Letter or Underscore) { allDigits = false; i++; continue; }
                        if (k == Digit) { i++; continue; }
                    }
                    if (!IsWordChar(t, i) || Burmese.IsRunChar(d) || IsNoSpaceScript(t, i)) break;
                    if (!char.IsAsciiDigit(d)) allDigits = false;
                    i += Step(t, i);
                }
                kind = allDigits ? TokenKind.Number : TokenKind.Word;
            }
            _pos = i;
            Current = new Token(begin, i - begin, kind);
            return true;
        }
    }

    /// <summary>An enumerator that starts at <paramref name="position"/> of <paramref name="text"/>, as if the tokens before it had been read (valid where the enumerator is between tokens outside a Burmese or no-space run).</summary>
    internal TokenEnumerator(ReadOnlySpan<char> text, int position) : this(text) => _pos = position;

    /// <summary>Where the next token search starts.</summary>
    internal readonly int Position => _pos;

    /// <summary>Inside a Burmese or no-space run: the next tokens come from the run.</summary>
    internal readonly bool InRun => _mode != 0;

    /// <summary>The first position at or after <paramref name="i"/> where a token starts (the text's length if none), with its class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int NextTokenStart(ReadOnlySpan<char> t, int i, out byte f)
    {
        ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
        f = 0;
        for (; i < t.Length; i++)
        {
            f = Unsafe.Add(ref cls, t[i]);
            if ((f & Start) != 0 || ((f & Slow) != 0 && StartsToken(t, i))) break;
        }
        return i;
    }

    /// <summary>Whether the token starting at <paramref name="i"/> (class <paramref name="f"/>) is a plain word or number, not a URL, mention, hashtag, emoji or run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsPlainStart(ReadOnlySpan<char> t, int i, byte f) =>
        (f & (Special | Slow)) == 0 && !(MayStartUrl(t, i) && IsUrlStart(t[i..]));

    // "ht" or "ww": the only starts IsUrlStart can accept (so "he", "what" and "with" skip its three comparisons).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MayStartUrl(ReadOnlySpan<char> t, int i) =>
        i + 1 < t.Length && ((t[i] == 'h' && t[i + 1] == 't') || (t[i] == 'w' && t[i + 1] == 'w'));

    /// <summary>The end of the plain word or number starting at <paramref name="i"/>, its characters classified by one table lookup each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int PlainTokenEnd(ReadOnlySpan<char> t, int i, byte f, out bool digitsOnly)
    {
        ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
        digitsOnly = (f & NotDigit) == 0;
        i++;
        while (i < t.Length)
        {
            var g = Unsafe.Add(ref cls, t[i]);
            if ((g & Continue) != 0)
            {
                digitsOnly &= (g & NotDigit) == 0;
                i++;
                continue;
            }
            if ((g & Slow) == 0 || !ContinuesWord(t, i)) break;
            if (!char.IsAsciiDigit(t[i])) digitsOnly = false;
            i += Step(t, i);
        }
        return i;
    }

    // Per UTF-16 unit, what the scanning loops need to know, from the predicates below (built once, 64 KiB):
    // Start: starts a token wherever it stands; Continue: continues a plain word wherever it stands (ASCII letters,
    // digits and '_', and non-ASCII word characters outside Burmese and the no-space scripts); NotDigit: a Continue
    // unit that makes a word more than a number; Slow: the answer depends on the neighbours (surrogates, the
    // apostrophe), so the predicates decide; Special: a token start other than a plain word (Burmese, no-space
    // scripts, '#', '@', emoji; a URL is recognised by its first letters).
    // The Burmese bits are Burmese.IsRunChar, Burmese.IsDigit and Burmese.IsSyllableStart.
    internal const byte Start = 1, Continue = 2, NotDigit = 4, Slow = 8, Special = 16, BurmeseRun = 32, BurmeseDigit = 64, SyllableStart = 128;

    internal static readonly byte[] Classes = BuildClasses();

    private static byte[] BuildClasses()
    {
        var table = new byte[0x10000];
        Span<char> one = stackalloc char[1];
        for (var u = 0; u <= 0xFFFF; u++)
        {
            var c = (char)u;
            one[0] = c;
            if (char.IsSurrogate(c) || c == '\'') { table[u] = Slow; continue; }
            byte f = 0;
            if (Burmese.IsRunChar(c)) f |= BurmeseRun;
            if (Burmese.IsDigit(c)) f |= BurmeseDigit;
            if (Burmese.IsSyllableStart(c)) f |= SyllableStart;
            if (StartsToken(one, 0)) f |= Start;
            if (ContinuesWord(one, 0)) f |= Continue;
            if ((f & Continue) != 0 && !char.IsAsciiDigit(c)) f |= NotDigit;
            if ((f & Start) != 0 && (Burmese.IsRunChar(c) || IsNoSpaceScript(one, 0) || c is '#' or '@' || IsEmoji(one, 0)))
                f |= Special;
            table[u] = f;
        }
        return table;
    }

    /// <summary>The end of the mention or hashtag whose '@' or '#' is at <paramref name="i"/>: the word characters after it (none for a lone sign).</summary>
    internal static int TagEnd(ReadOnlySpan<char> t, int i)
    {
        ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
        i++;
        while (i < t.Length)
        {
            // Continue units are word characters of one unit; the rest (Burmese, no-space scripts, the apostrophe,
            // surrogates) the predicate decides.
            if ((Unsafe.Add(ref cls, t[i]) & Continue) != 0) { i++; continue; }
            if (!IsWordChar(t, i)) break;
            i += Step(t, i);
        }
        return i;
    }

    /// <summary>The end of the Burmese run starting at <paramref name="i"/> (Myanmar units, ZWNJ and ZWJ), segmented into syllables by <see cref="SyllableEnd"/>.</summary>
    internal static int BurmeseRunEnd(ReadOnlySpan<char> t, int i)
    {
        ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
        var e = i + 1;
        while (e < t.Length && ((Unsafe.Add(ref cls, t[e]) & BurmeseRun) != 0 || (t[e] is '\u200C' or '\u200D'))) e++;
        return e;
    }

    // Burmese.NextSyllableEnd with the character classes from the table (tests check the two agree).
    internal static int SyllableEnd(ReadOnlySpan<char> t, int start, int end)
    {
        ref var cls = ref MemoryMarshal.GetArrayDataReference(Classes);
        var i = start + 1;
        if ((Unsafe.Add(ref cls, t[start]) & BurmeseDigit) != 0)
        {
            while (i < end && (Unsafe.Add(ref cls, t[i]) & BurmeseDigit) != 0) i++;
            return i;
        }
        for (; i < end; i++)
        {
            var f = Unsafe.Add(ref cls, t[i]);
            if ((f & BurmeseDigit) != 0) return i;
            if ((f & SyllableStart) == 0 || t[i - 1] == '\u1039') continue; // not a start, or a stacked consonant
            if (i + 1 < end && (t[i + 1] == '\u103A' || (t[i + 1] == '\u1037' && i + 2 < end && t[i + 2] == '\u103A'))) continue; // a final
            return i;
        }
        return i;
    }

    // Whether the unit at i continues a plain word (the word loop's test for anything but plain ASCII).
    private static bool ContinuesWord(ReadOnlySpan<char> t, int i) =>
        IsWordChar(t, i) && !Burmese.IsRunChar(t[i]) && !IsNoSpaceScript(t, i);

    private static int Step(ReadOnlySpan<char> t, int i) =>
        char.IsHighSurrogate(t[i]) && i + 1 < t.Length && char.IsLowSurrogate(t[i + 1]) ? 2 : 1;

    private static bool IsUrlStart(ReadOnlySpan<char> s) =>
        s.StartsWith("https://", StringComparison.Ordinal) || s.StartsWith("http://", StringComparison.Ordinal)
        || s.StartsWith("www.", StringComparison.Ordinal);

    private static bool StartsToken(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (c < '\u0080')
        {
            var k = AsciiClass[c];
            return k is Letter or Digit or Hash or At;
        }
        return IsWordChar(t, i) || IsEmoji(t, i) || Burmese.IsRunChar(c);
    }

    private static bool IsWordChar(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (c < '\u0080')
        {
            var k = AsciiClass[c];
            if (k is Letter or Digit or Underscore) return true;
            // An apostrophe inside a word ("don't") belongs to it.
            return k == Apostrophe && i > 0 && i + 1 < t.Length && CharTable.Has(t[i - 1], CharTable.Letter) && CharTable.Has(t[i + 1], CharTable.Letter);
        }
        if (CharTable.Has(c, CharTable.WordChar)) return true; // letter or digit, mark, ZWNJ, ZWJ
        if (char.IsHighSurrogate(c) && i + 1 < t.Length && char.IsLowSurrogate(t[i + 1]))
            return Rune.IsLetterOrDigit(new Rune(c, t[i + 1]));
        return false;
    }

    private static bool IsMarkAt(ReadOnlySpan<char> t, int i) =>
        t[i] >= '\u0300' && CharTable.Has(t[i], CharTable.ClusterMark);

    // A cluster is a base character (or surrogate pair) with the marks that follow it.
    private static int ClusterEnd(ReadOnlySpan<char> t, int i, int end)
    {
        i += Step(t, i);
        while (i < end && IsMarkAt(t, i)) i++;
        return Math.Min(i, end);
    }

    /// <summary>Scripts written without spaces between words (besides Myanmar): Thai, Lao, Tibetan, Khmer, kana, CJK.</summary>
    private static bool IsNoSpaceScript(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (c < '\u0E00') return false;
        if (CharTable.Has(c, CharTable.NoSpaceLetter)) return true; // BMP letters of Thai, Lao, Tibetan, Khmer, kana, CJK
        if (char.IsHighSurrogate(c) && c is >= '\uD840' and <= '\uD87F' && i + 1 < t.Length && char.IsLowSurrogate(t[i + 1]))
            return true; // CJK extension planes (U+20000..U+2FFFF)
        return false;
    }

    private static bool IsSkinTone(ReadOnlySpan<char> t, int i) =>
        t[i] == '\uD83C' && i + 1 < t.Length && t[i + 1] is >= '\uDFFB' and <= '\uDFFF';

    private static bool IsEmoji(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (c == '\uD83C' || c == '\uD83D' || c == '\uD83E')
        {
            if (i + 1 >= t.Length || !char.IsLowSurrogate(t[i + 1])) return false;
            var cp = char.ConvertToUtf32(c, t[i + 1]);
            return cp is >= 0x1F000 and <= 0x1FAFF and not (>= 0x1F3FB and <= 0x1F3FF);
        }
        return c is >= '\u2600' and <= '\u27BF' or >= '\u2B00' and <= '\u2BFF' or '\u00A9' or '\u00AE' or '\u203C' or '\u2049';
    }

    private static ReadOnlySpan<byte> AsciiClass =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        // space ! " # $ % & ' ( ) * + , - . /
        0, 0, 0, Hash, 0, 0, 0, Apostrophe, 0, 0, 0, 0, 0, 0, 0, 0,
        Digit, Digit, Digit, Digit, Digit, Digit, Digit, Digit, Digit, Digit, 0, 0, 0, 0, 0, 0,
        At, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter,
        Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, 0, 0, 0, 0, Underscore,
        0, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter,
        Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, Letter, 0, 0, 0, 0, 0,
    ];
}
