using System.Globalization;
using System.Runtime.CompilerServices;

namespace EarlyWarning.Text.Internal;

/// <summary>
/// Per-UTF-16-unit properties and lower case, precomputed once from the same .NET predicates the slow paths used
/// (<see cref="char.IsLetter(char)"/>, <see cref="CharUnicodeInfo.GetUnicodeCategory(char)"/>,
/// <see cref="char.ToLowerInvariant"/>), so a table lookup gives bit-identical answers without a category lookup
/// or an ICU call per character. 64 KiB of flags + 128 KiB of lower case; the hot part for any one script is a
/// few cache lines.
/// </summary>
internal static class CharTable
{
    /// <summary><see cref="char.IsLetter(char)"/>.</summary>
    public const byte Letter = 1;
    /// <summary>Categories Mn, Mc, Me.</summary>
    public const byte Mark = 2;
    /// <summary>ASCII letter, or a non-ASCII letter or mark (the normaliser's "letter-like").</summary>
    public const byte LetterLike = 4;
    /// <summary>Dropped by the StripInvisible step (zero-width, bidi, format characters, selectors, soft hyphen, tatweel).</summary>
    public const byte Invisible = 8;
    /// <summary>Part of a word for the tokeniser (a BMP unit: letter, digit, mark, ZWNJ, ZWJ; ASCII letter, digit, '_').</summary>
    public const byte WordChar = 16;
    /// <summary>Categories Mn and Mc (a mark that extends a character cluster).</summary>
    public const byte ClusterMark = 32;
    /// <summary>A letter of a script written without spaces (Thai, Lao, Tibetan, Khmer, kana, CJK); BMP only.</summary>
    public const byte NoSpaceLetter = 64;
    /// <summary>ASCII digit.</summary>
    public const byte AsciiDigit = 128;

    private static readonly byte[] Flags = BuildFlags();
    private static readonly char[] Lower = BuildLower();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Of(char c) => Unsafe.Add(ref Flags[0], c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Has(char c, byte flag) => (Unsafe.Add(ref Flags[0], c) & flag) != 0;

    /// <summary><see cref="char.ToLowerInvariant"/> of one UTF-16 unit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static char ToLower(char c) => Unsafe.Add(ref Lower[0], c);

    /// <summary>The flags table (65,536 entries) for loops that hoist it.</summary>
    public static ReadOnlySpan<byte> All => Flags;

    /// <summary>The lower-case table (65,536 entries) for loops that hoist it.</summary>
    public static ReadOnlySpan<char> LowerAll => Lower;

    private static byte[] BuildFlags()
    {
        var t = new byte[0x10000];
        for (var i = 0; i < t.Length; i++)
        {
            var c = (char)i;
            var cat = CharUnicodeInfo.GetUnicodeCategory(c);
            var mark = cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
            byte f = 0;
            if (char.IsLetter(c)) f |= Letter;
            if (mark) f |= Mark;
            if (c < '\u0080' ? (uint)((c | 0x20) - 'a') <= 'z' - 'a' : char.IsLetter(c) || mark) f |= LetterLike;
            if (IsInvisibleSlow(c)) f |= Invisible;
            if (c < '\u0080' ? char.IsAsciiLetterOrDigit(c) || c == '_' : char.IsLetterOrDigit(c) || mark || c is '\u200C' or '\u200D')
                f |= WordChar;
            if (cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark) f |= ClusterMark;
            if (IsNoSpaceLetterSlow(c)) f |= NoSpaceLetter;
            if (char.IsAsciiDigit(c)) f |= AsciiDigit;
            t[i] = f;
        }
        return t;
    }

    private static char[] BuildLower()
    {
        var t = new char[0x10000];
        for (var i = 0; i < t.Length; i++) t[i] = char.ToLowerInvariant((char)i);
        return t;
    }

    private static bool IsInvisibleSlow(char c) =>
        c is '\u00AD' or '\u034F' or '\u0640' or '\u061C' or '\u180E' or '\uFEFF'
            or >= '\u200B' and <= '\u200F' or >= '\u202A' and <= '\u202E' or >= '\u2060' and <= '\u206F'
            or >= '\uFE00' and <= '\uFE0F'
        || (c >= '\u0600' && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);

    private static bool IsNoSpaceLetterSlow(char c)
    {
        if (c < '\u0E00') return false;
        if (c <= '\u0FFF') return char.IsLetter(c);
        if (c is >= '\u1780' and <= '\u17FF') return char.IsLetter(c);
        if (c is >= '\u3040' and <= '\u30FF' or >= '\u3400' and <= '\u4DBF' or >= '\u4E00' and <= '\u9FFF'
            or >= '\uF900' and <= '\uFAFF') return char.IsLetter(c);
        return false;
    }
}
