using System.Buffers;
using System.Globalization;
using System.Text;
using EarlyWarning.Text.Matching;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Models.Lexicons;

/// <summary>Lexicon categories (ARCHITECTURE.md, "Lexicon files").</summary>
public static class LexiconCategories
{
    public const string Slur = "slur";
    public const string Dehumanising = "dehumanising";
    public const string Incitement = "incitement";
    public const string Coded = "coded";
    public const string Offensive = "offensive";
    public const string Identity = "identity";
    public static readonly string[] All = [Slur, Dehumanising, Incitement, Coded, Offensive, Identity];

    /// <summary>Categories that make a post <c>hate</c> on their own, in any language.</summary>
    public static bool IsHateful(string category) => category is Slur or Dehumanising or Incitement or Coded;
}

/// <summary>One lexicon line; <see cref="Normalized"/> is the term after the default text normalisation.</summary>
public sealed record LexiconEntry(string Term, string Normalized, string Lang, string Country, string Category, string? Target, int Severity, string? Note, string File);

/// <summary>A lexicon hit in normalised text.</summary>
public readonly record struct LexiconMatch(LexiconEntry Entry, int Start, int Length);

/// <summary>
/// Finds lexicon terms in normalised text (<see cref="AutomatonTermMatcher"/> by default).
/// </summary>
public interface ITermMatcher
{
    /// <summary>Adds every (start, pattern id) occurrence in <paramref name="normalizedText"/> to <paramref name="hits"/>.</summary>
    void FindAll(ReadOnlySpan<char> normalizedText, List<(int Start, int PatternId)> hits);
}

/// <summary>The text stage's Aho-Corasick <see cref="MultiPatternMatcher"/> behind <see cref="ITermMatcher"/> (the default).</summary>
public sealed class AutomatonTermMatcher : ITermMatcher
{
    private const int MaxHits = 512;
    private readonly MultiPatternMatcher _matcher;

    public AutomatonTermMatcher(IReadOnlyList<string> patterns, TextNormalizer normalizer) =>
        _matcher = new MultiPatternMatcher(patterns.Select((p, i) => (p, i)), normalizer);

    public void FindAll(ReadOnlySpan<char> normalizedText, List<(int Start, int PatternId)> hits)
    {
        var buffer = ArrayPool<PatternMatch>.Shared.Rent(MaxHits);
        try
        {
            var n = _matcher.FindAll(normalizedText, buffer.AsSpan(0, MaxHits));
            for (var i = 0; i < n; i++) hits.Add((buffer[i].Start, buffer[i].Id));
        }
        finally { ArrayPool<PatternMatch>.Shared.Return(buffer); }
    }
}

/// <summary>
/// Straightforward matcher (kept as a reference implementation for tests): ordinal search of each pattern, with word boundaries for scripts that separate words
/// by spaces and are not agglutinative in practice (Latin, Greek, Cyrillic); substring matching elsewhere (Burmese
/// has no spaces, Sinhala/Tamil attach suffixes). O(patterns × text); fine for lexicons of a few thousand terms.
/// </summary>
public sealed class SimpleTermMatcher : ITermMatcher
{
    private readonly string[] _patterns;

    public SimpleTermMatcher(IReadOnlyList<string> patterns) => _patterns = patterns.ToArray();

    public void FindAll(ReadOnlySpan<char> text, List<(int Start, int PatternId)> hits)
    {
        for (var p = 0; p < _patterns.Length; p++)
        {
            var pat = _patterns[p].AsSpan();
            if (pat.Length == 0 || pat.Length > text.Length) continue;
            var from = 0;
            while (from <= text.Length - pat.Length)
            {
                var i = text[from..].IndexOf(pat, StringComparison.Ordinal);
                if (i < 0) break;
                var start = from + i;
                if (BoundaryOk(text, start, pat.Length, pat)) hits.Add((start, p));
                from = start + 1;
            }
        }
    }

    private static bool BoundaryOk(ReadOnlySpan<char> text, int start, int length, ReadOnlySpan<char> pat)
    {
        if (NeedsBoundary(pat[0]) && start > 0 && char.IsLetterOrDigit(text[start - 1])) return false;
        var end = start + length;
        if (NeedsBoundary(pat[^1]) && end < text.Length && char.IsLetterOrDigit(text[end])) return false;
        return true;
    }

    private static bool NeedsBoundary(char c) => c < 0x0530 && char.IsLetterOrDigit(c);
}

/// <summary>
/// The analyst-editable lexicons: every <c>*.tsv</c> in a folder (header <c>term lang country category target severity note</c>,
/// <c>#</c> comments). Bad lines are reported in <see cref="Problems"/>, never fatal. Thread-safe after loading.
/// </summary>
public sealed class Lexicon
{
    private readonly TextNormalizer _normalizer;
    private readonly ITermMatcher _matcher;
    private readonly LexiconEntry[] _entries;

    public Lexicon(IEnumerable<LexiconEntry> entries, IReadOnlyList<string>? problems = null, TextNormalizer? normalizer = null)
    {
        _normalizer = normalizer ?? new TextNormalizer();
        _entries = entries.Where(e => e.Normalized.Length > 0).ToArray();
        _matcher = new AutomatonTermMatcher(_entries.Select(e => e.Normalized).ToArray(), _normalizer);
        Problems = problems ?? [];
    }

    public IReadOnlyList<LexiconEntry> Entries => _entries;
    /// <summary>Lines that were skipped, as <c>file:line: reason</c>.</summary>
    public IReadOnlyList<string> Problems { get; }

    public static Lexicon Empty { get; } = new([]);

    /// <summary>Loads every <c>*.tsv</c> in <paramref name="directory"/> (sorted by name). A missing folder gives an empty lexicon with a problem noted.</summary>
    public static Lexicon LoadDirectory(string directory)
    {
        var normalizer = new TextNormalizer();
        var entries = new List<LexiconEntry>();
        var problems = new List<string>();
        if (!Directory.Exists(directory)) return new Lexicon([], [directory + ": lexicon folder not found"], normalizer);
        foreach (var file in Directory.GetFiles(directory, "*.tsv").OrderBy(f => f, StringComparer.Ordinal))
            LoadFile(file, normalizer, entries, problems);
        return new Lexicon(entries, problems, normalizer);
    }

    private static void LoadFile(string file, TextNormalizer normalizer, List<LexiconEntry> entries, List<string> problems)
    {
        var name = Path.GetFileName(file);
        var lineNo = 0;
        var headerSeen = false;
        foreach (var raw in File.ReadLines(file, Encoding.UTF8))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.TrimStart().StartsWith('#')) continue;
            var cols = line.Split('\t');
            if (!headerSeen)
            {
                headerSeen = true;
                if (cols[0].Trim().Equals("term", StringComparison.OrdinalIgnoreCase)) continue;
            }
            if (cols.Length < 4) { problems.Add($"{name}:{lineNo}: expected at least 4 tab-separated columns"); continue; }
            var term = cols[0].Trim();
            var category = cols[3].Trim().ToLowerInvariant();
            if (term.Length == 0) { problems.Add($"{name}:{lineNo}: empty term"); continue; }
            if (!LexiconCategories.All.Contains(category)) { problems.Add($"{name}:{lineNo}: unknown category '{category}'"); continue; }
            var severity = 2;
            if (cols.Length > 5 && cols[5].Trim().Length > 0 &&
                (!int.TryParse(cols[5].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out severity) || severity is < 1 or > 3))
            {
                problems.Add($"{name}:{lineNo}: severity must be 1..3");
                continue;
            }
            var normalized = normalizer.Normalize(term).Trim();
            if (normalized.Length == 0) { problems.Add($"{name}:{lineNo}: term is empty after normalisation"); continue; }
            var target = cols.Length > 4 && cols[4].Trim().Length > 0 ? cols[4].Trim() : null;
            var note = cols.Length > 6 && cols[6].Trim().Length > 0 ? cols[6].Trim() : null;
            entries.Add(new LexiconEntry(term, normalized, cols[1].Trim(), cols[2].Trim(), category, target, severity, note, name));
        }
    }

    /// <summary>The normalisation steps of <see cref="Normalize"/> (what <see cref="MatchNormalized"/> expects).</summary>
    public NormalizationSteps NormalizationSteps => _normalizer.Steps;

    /// <summary>Normalises <paramref name="text"/> with the default steps (what entries were normalised with).</summary>
    public string Normalize(string text) => _normalizer.Normalize(text);

    // Per-thread scratch of MatchNormalized (every post is matched; most have no hit or a few).
    [ThreadStatic] private static List<(int Start, int PatternId)>? t_hits;
    [ThreadStatic] private static HashSet<int>? t_seen;

    /// <summary>
    /// Matches in text that is already normalised, in order of their start (hits at one start in the matcher's order);
    /// overlapping hits of the same entry are reported once, at the first.
    /// </summary>
    public IReadOnlyList<LexiconMatch> MatchNormalized(string normalizedText)
    {
        var hits = t_hits ??= [];
        hits.Clear();
        _matcher.FindAll(normalizedText, hits);
        if (hits.Count == 0) return [];
        // A stable insertion sort by start: hits come nearly in order (by end) and are few.
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(hits);
        for (var i = 1; i < span.Length; i++)
        {
            var h = span[i];
            var j = i - 1;
            for (; j >= 0 && span[j].Start > h.Start; j--) span[j + 1] = span[j];
            span[j + 1] = h;
        }
        var seen = t_seen ??= [];
        seen.Clear();
        var result = new List<LexiconMatch>(span.Length);
        foreach (var (start, id) in span)
            if (seen.Add(id)) result.Add(new LexiconMatch(_entries[id], start, _entries[id].Normalized.Length));
        return result;
    }

    /// <summary>Normalises and matches raw text.</summary>
    public IReadOnlyList<LexiconMatch> Match(string text) => MatchNormalized(Normalize(text));
}
