using System.Text;

namespace EarlyWarning.Text.Language;

/// <summary>
/// Language from script, where the script is (practically) used by one language among those our users meet:
/// Myanmar → my, Sinhala → si, Tamil → ta, Ethiopic → am, Devanagari → hi, Arabic → ar, Thai → th, Khmer → km, ...
/// Returns null for Latin, Cyrillic, Han and mixed or letter-less text. Allocation-free.
/// </summary>
public static class ScriptLanguageDetector
{
    internal static readonly (int Lo, int Hi, string Lang)[] Ranges =
    [
        (0x0370, 0x03FF, "el"), (0x0530, 0x058F, "hy"), (0x0590, 0x05FF, "he"),
        (0x0600, 0x06FF, "ar"), (0x0750, 0x077F, "ar"), (0x08A0, 0x08FF, "ar"), (0xFB50, 0xFDFF, "ar"), (0xFE70, 0xFEFF, "ar"),
        (0x0780, 0x07BF, "dv"), (0x0900, 0x097F, "hi"), (0x0980, 0x09FF, "bn"), (0x0A00, 0x0A7F, "pa"),
        (0x0A80, 0x0AFF, "gu"), (0x0B00, 0x0B7F, "or"), (0x0B80, 0x0BFF, "ta"), (0x0C00, 0x0C7F, "te"),
        (0x0C80, 0x0CFF, "kn"), (0x0D00, 0x0D7F, "ml"), (0x0D80, 0x0DFF, "si"), (0x0E00, 0x0E7F, "th"),
        (0x0E80, 0x0EFF, "lo"), (0x0F00, 0x0FFF, "bo"), (0x1000, 0x109F, "my"), (0xA9E0, 0xA9FF, "my"), (0xAA60, 0xAA7F, "my"),
        (0x10A0, 0x10FF, "ka"), (0x1200, 0x139F, "am"), (0x2D80, 0x2DDF, "am"), (0xAB00, 0xAB2F, "am"),
        (0x1780, 0x17FF, "km"), (0x1100, 0x11FF, "ko"), (0xAC00, 0xD7AF, "ko"), (0x3040, 0x30FF, "ja"),
    ];

    /// <summary>
    /// The language whose script holds most of the letters of <paramref name="text"/>, when that script identifies
    /// the language and covers at least half of the letters; otherwise null.
    /// </summary>
    public static string? Detect(ReadOnlySpan<char> text)
    {
        Span<int> counts = stackalloc int[Ranges.Length];
        counts.Clear();
        var letters = 0;
        var hasKana = false;
        foreach (var c in text)
        {
            if (c < '\u0080') { if (char.IsAsciiLetter(c)) letters++; continue; }
            if (char.IsSurrogate(c)) continue;
            var isLetter = char.IsLetter(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark;
            if (!isLetter) continue;
            letters++;
            var r = Find(c);
            if (r >= 0)
            {
                counts[r]++;
                if (Ranges[r].Lang == "ja") hasKana = true;
            }
        }
        if (letters == 0) return null;
        var best = -1;
        var bestCount = 0;
        for (var i = 0; i < counts.Length; i++)
            if (counts[i] > bestCount) { best = i; bestCount = counts[i]; }
        if (best < 0) return null;
        // Sum ranges of the same language (Arabic presentation forms, Ethiopic extensions, Myanmar extensions).
        var lang = Ranges[best].Lang;
        var total = 0;
        for (var i = 0; i < counts.Length; i++)
            if (Ranges[i].Lang == lang) total += counts[i];
        if (lang == "ko" && hasKana) return null;
        return total * 2 >= letters ? lang : null;
    }

    /// <summary>Convenience: the script language of a string (null for null or empty).</summary>
    public static string? Detect(string? text) => string.IsNullOrEmpty(text) ? null : Detect(text.AsSpan());

    // The first range holding each BMP code unit (0xFF: none), so a lookup is one load instead of a scan of the ranges.
    private static readonly byte[] RangeOf = BuildRangeTable();

    private static byte[] BuildRangeTable()
    {
        var table = new byte[0x10000];
        table.AsSpan().Fill(0xFF);
        for (var i = Ranges.Length - 1; i >= 0; i--) table.AsSpan(Ranges[i].Lo, Ranges[i].Hi - Ranges[i].Lo + 1).Fill((byte)i);
        return table;
    }

    private static int Find(char c)
    {
        var r = RangeOf[c];
        return r == 0xFF ? -1 : r;
    }

    /// <summary>True when the rune is a letter in a script this detector maps to a language.</summary>
    public static bool IsMappedScript(Rune r) => r.Value <= 0xFFFF && Find((char)r.Value) >= 0;
}
