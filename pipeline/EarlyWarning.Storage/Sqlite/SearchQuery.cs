using System.Text;

namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// Turns what a user typed into a query that cannot be a syntax error: the input is cut into words (runs of letters,
/// digits and combining marks; anything else separates), every word becomes an FTS5 string, and the words are ANDed.
/// Operators, column filters, NEAR and stray quotes are therefore never interpreted, and the LIKE fallback sees the
/// same words as the index.
/// </summary>
internal static class SearchQuery
{
    public const int MaxTerms = 16;

    public static List<string> Terms(string query, int maxTerms = MaxTerms)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var r in query.EnumerateRunes())
        {
            if (IsWordRune(r))
            {
                word.Append(r.ToString());
                continue;
            }
            if (Flush()) break;
        }
        Flush();
        return terms;

        bool Flush()
        {
            if (word.Length > 0 && terms.Count < maxTerms) terms.Add(word.ToString());
            word.Clear();
            return terms.Count >= maxTerms;
        }
    }

    /// <summary>The FTS5 MATCH expression for the terms, e.g. <c>"a" "b"</c>.</summary>
    public static string ToFts(IReadOnlyList<string> terms)
    {
        var sb = new StringBuilder();
        foreach (var t in terms)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append('"').Append(t.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        return sb.ToString();
    }

    /// <summary>Whether every term is a whole word of <paramref name="text"/> (case-insensitive), as the index matches.</summary>
    public static bool ContainsAllWords(string text, IReadOnlyList<string> terms)
    {
        var words = new HashSet<string>(Terms(text, int.MaxValue), StringComparer.OrdinalIgnoreCase);
        foreach (var t in terms)
        {
            if (!words.Contains(t)) return false;
        }
        return true;
    }

    /// <summary>A LIKE pattern matching the term anywhere, with <c>\</c> as the escape character.</summary>
    public static string ToLike(string term) =>
        "%" + term.Replace("\\", "\\\\", StringComparison.Ordinal)
                  .Replace("%", "\\%", StringComparison.Ordinal)
                  .Replace("_", "\\_", StringComparison.Ordinal) + "%";

    // Marks carry meaning in abugidas (Myanmar, Sinhala, Tamil), so they stay inside words.
    private static bool IsWordRune(Rune r) =>
        Rune.IsLetterOrDigit(r) || Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.NonSpacingMark
            or System.Globalization.UnicodeCategory.SpacingCombiningMark;
}
