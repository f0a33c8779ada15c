namespace EarlyWarning.Text.Tokenization;

/// <summary>
/// Rule-based Burmese syllable segmentation on Myanmar Unicode character classes: a syllable starts at a
/// consonant, independent vowel, digit or symbol, unless the consonant is stacked (follows U+1039 virama) or is a
/// final (followed by U+103A asat, possibly after U+1037 dot below).
/// </summary>
public static class Burmese
{
    /// <summary>Characters that belong to a Burmese run (the Myanmar blocks, except the section marks ၊ ။).</summary>
    public static bool IsRunChar(char c) =>
        c is >= '\u1000' and <= '\u109F' and not ('\u104A' or '\u104B') or >= '\uAA60' and <= '\uAA7F' or >= '\uA9E0' and <= '\uA9FF';

    public static bool IsDigit(char c) => c is >= '\u1040' and <= '\u1049' or >= '\u1090' and <= '\u1099' or >= '\uA9F0' and <= '\uA9F9';

    /// <summary>Consonants, independent vowels and symbols that can start a syllable.</summary>
    public static bool IsSyllableStart(char c) =>
        c is >= '\u1000' and <= '\u102A' and not '\u1022' or '\u103F' or >= '\u104C' and <= '\u104F'
            or >= '\u1050' and <= '\u1055' or >= '\u105A' and <= '\u105D' or '\u1061' or '\u1065' or '\u1066'
            or >= '\u106E' and <= '\u1070' or >= '\u1075' and <= '\u1081' or '\u108E'
            or >= '\uAA60' and <= '\uAA6F' or >= '\uAA71' and <= '\uAA76' or >= '\uA9E0' and <= '\uA9E4' or >= '\uA9E7' and <= '\uA9EF'
            or >= '\uA9FA' and <= '\uA9FE';

    /// <summary>End (exclusive) of the syllable that starts at <paramref name="start"/>, within [start, end).</summary>
    public static int NextSyllableEnd(ReadOnlySpan<char> t, int start, int end)
    {
        if (IsDigit(t[start]))
        {
            var d = start + 1;
            while (d < end && IsDigit(t[d])) d++;
            return d;
        }
        var i = start + 1;
        while (i < end && !IsBreak(t, i, end)) i++;
        return i;
    }

    private static bool IsBreak(ReadOnlySpan<char> t, int i, int end)
    {
        var c = t[i];
        if (IsDigit(c)) return true;
        if (!IsSyllableStart(c)) return false;
        var prev = t[i - 1];
        if (prev == '\u1039') return false; // stacked consonant
        if (i + 1 < end)
        {
            var next = t[i + 1];
            if (next == '\u103A') return false; // final consonant (asat)
            if (next == '\u1037' && i + 2 < end && t[i + 2] == '\u103A') return false;
        }
        return true;
    }
}
