namespace EarlyWarning.Text.Tokenization;

/// <summary>What a token is.</summary>
public enum TokenKind : byte { Word, Number, Url, Mention, Hashtag, Emoji, Syllable }

/// <summary>A token as a slice of the text it came from (no string per token).</summary>
public readonly record struct Token(int Start, int Length, TokenKind Kind);

/// <summary>Splits normalised text into tokens without allocating: <c>foreach (var t in Tokenizer.Tokenize(text))</c>.</summary>
public static class Tokenizer
{
    public static TokenEnumerator Tokenize(ReadOnlySpan<char> text) => new(text);
}

/// <summary>A <c>ref struct</c> enumerator over the tokens of a text.</summary>
public ref struct TokenEnumerator
{
    private readonly ReadOnlySpan<char> _text;
    private int _pos;

    public TokenEnumerator(ReadOnlySpan<char> text) { _text = text; _pos = 0; Current = default; }

    public Token Current { get; private set; }

    public readonly TokenEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        var t = _text;
        var i = _pos;
        while (i < t.Length && !IsTokenChar(t, i)) i++;
        if (i >= t.Length) { _pos = i; return false; }
        var start = i;
        var kind = TokenKind.Word;
        if (t[i] == '#' || t[i] == '@')
        {
            kind = t[i] == '#' ? TokenKind.Hashtag : TokenKind.Mention;
            i++;
            while (i < t.Length && IsWordChar(t, i)) i += (i + 1 < t.Length && char.IsSurrogatePair(t[i], t[i + 1]) ? 2 : 1);
            if (i == start + 1) { _pos = i; return MoveNext(); }
        }
        else if (t[i..].StartsWith("http://", StringComparison.Ordinal) || t[i..].StartsWith("https://", StringComparison.Ordinal))
        {
            kind = TokenKind.Url;
            while (i < t.Length && !char.IsWhiteSpace(t[i])) i++;
        }
        else if (IsEmoji(t, i))
        {
            kind = TokenKind.Emoji;
            i += (i + 1 < t.Length && char.IsSurrogatePair(t[i], t[i + 1]) ? 2 : 1);
            while (i < t.Length && (t[i] == '\uFE0F' || t[i] == '\u200D')) i++;
        }
        else
        {
            var allDigits = true;
            while (i < t.Length && IsWordChar(t, i))
            {
                if (!char.IsDigit(t[i])) allDigits = false;
                i += (i + 1 < t.Length && char.IsSurrogatePair(t[i], t[i + 1]) ? 2 : 1);
            }
            if (allDigits) kind = TokenKind.Number;
        }
        _pos = i;
        Current = new Token(start, i - start, kind);
        return true;
    }

    private static bool IsTokenChar(ReadOnlySpan<char> t, int i) => IsWordChar(t, i) || t[i] == '#' || t[i] == '@' || IsEmoji(t, i);

    private static bool IsWordChar(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (char.IsLetterOrDigit(c)) return true;
        // Combining marks belong to the word (Myanmar, Sinhala, Tamil, Devanagari vowel signs); ZWJ/ZWNJ too.
        var cat = char.GetUnicodeCategory(c);
        if (cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark
            or System.Globalization.UnicodeCategory.EnclosingMark) return true;
        if (c is '\u200C' or '\u200D' or '_' or '\'') return true;
        if (char.IsHighSurrogate(c) && i + 1 < t.Length && char.IsLowSurrogate(t[i + 1]))
        {
            var cp = char.ConvertToUtf32(c, t[i + 1]);
            return System.Text.Rune.IsLetterOrDigit(new System.Text.Rune(cp));
        }
        return false;
    }

    private static bool IsEmoji(ReadOnlySpan<char> t, int i)
    {
        var c = t[i];
        if (char.IsHighSurrogate(c) && i + 1 < t.Length)
        {
            var cp = char.ConvertToUtf32(c, t[i + 1]);
            return cp is >= 0x1F000 and <= 0x1FAFF;
        }
        return c is >= '\u2600' and <= '\u27BF';
    }
}
