using System.Buffers;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Matching;

/// <summary>A pattern found in a text: the pattern's id and where it is (in the normalised text).</summary>
public readonly record struct PatternMatch(int Id, int Start, int Length);

/// <summary>
/// Aho-Corasick automaton over many patterns (lexicon terms), built once; patterns are normalised with the same
/// normaliser as the texts. Whole-word matches at edges written in space-delimited scripts (a pattern does not
/// match inside a longer word); substring matches at edges in Burmese and other scripts written without spaces.
/// <see cref="FindAll"/> is allocation-free and thread-safe.
/// </summary>
public sealed class MultiPatternMatcher
{
    // Flattened automaton: state s has children labels[childStart[s]..childStart[s+1]) (sorted) -> targets.
    private readonly int[] _childStart;
    private readonly char[] _labels;
    private readonly int[] _targets;
    private readonly int[] _rootNext;   // dense transitions of the root (65536 entries; -1 = none)
    private readonly int[] _fail;
    private readonly int[] _firstOut;   // first pattern ending at this state, -1 if none
    private readonly int[] _dictLink;   // nearest proper suffix state with an output, -1 if none
    private readonly int[] _nextOut;    // next pattern ending at the same state
    private readonly int[] _patId;
    private readonly int[] _patLen;
    private readonly bool[] _wordLeft;  // pattern must start at a word boundary
    private readonly bool[] _wordRight; // pattern must end at a word boundary

    /// <summary>Builds the automaton; patterns are normalised with <paramref name="normalizer"/> (default steps when null).</summary>
    public MultiPatternMatcher(IEnumerable<(string Pattern, int Id)> patterns, TextNormalizer? normalizer = null)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        normalizer ??= new TextNormalizer();
        var children = new List<SortedDictionary<char, int>> { new() };
        var outs = new List<int> { -1 };
        var ids = new List<int>();
        var lens = new List<int>();
        var left = new List<bool>();
        var right = new List<bool>();
        var nextOut = new List<int>();
        var skipped = new List<string>();
        foreach (var (pattern, id) in patterns)
        {
            var norm = normalizer.Normalize(pattern ?? "").Trim();
            if (norm.Length == 0) { skipped.Add(pattern ?? ""); continue; }
            var s = 0;
            foreach (var c in norm)
            {
                if (!children[s].TryGetValue(c, out var t))
                {
                    t = children.Count;
                    children.Add(new SortedDictionary<char, int>());
                    outs.Add(-1);
                    children[s][c] = t;
                }
                s = t;
            }
            var p = ids.Count;
            ids.Add(id);
            lens.Add(norm.Length);
            left.Add(!NoSpaceScript(norm[0]));
            right.Add(!NoSpaceScript(norm[^1]));
            nextOut.Add(outs[s]);
            outs[s] = p;
        }
        SkippedPatterns = skipped;
        PatternCount = ids.Count;

        var n = children.Count;
        _childStart = new int[n + 1];
        var total = 0;
        for (var s = 0; s < n; s++) { _childStart[s] = total; total += children[s].Count; }
        _childStart[n] = total;
        _labels = new char[total];
        _targets = new int[total];
        for (var s = 0; s < n; s++)
        {
            var k = _childStart[s];
            foreach (var (c, t) in children[s]) { _labels[k] = c; _targets[k] = t; k++; }
        }
        _rootNext = new int[65536];
        Array.Fill(_rootNext, -1);
        foreach (var (c, t) in children[0]) _rootNext[c] = t;

        _fail = new int[n];
        _dictLink = new int[n];
        _firstOut = outs.ToArray();
        var queue = new Queue<int>();
        foreach (var (_, t) in children[0]) { _fail[t] = 0; _dictLink[t] = -1; queue.Enqueue(t); }
        _dictLink[0] = -1;
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var (c, t) in children[s])
            {
                var f = _fail[s];
                int g;
                while ((g = Child(f, c)) < 0 && f != 0) f = _fail[f];
                _fail[t] = g >= 0 && g != t ? g : 0;
                var ft = _fail[t];
                _dictLink[t] = _firstOut[ft] >= 0 ? ft : _dictLink[ft];
                queue.Enqueue(t);
            }
        }
        _nextOut = nextOut.ToArray();
        _patId = ids.ToArray();
        _patLen = lens.ToArray();
        _wordLeft = left.ToArray();
        _wordRight = right.ToArray();
    }

    /// <summary>Number of patterns in the automaton.</summary>
    public int PatternCount { get; }

    /// <summary>Patterns that normalised to nothing and were left out (reported, not silently dropped).</summary>
    public IReadOnlyList<string> SkippedPatterns { get; }

    /// <summary>
    /// Finds every occurrence (overlapping ones included) of the patterns in <paramref name="normalizedText"/>, in order
    /// of their end position. Writes at most <c>matches.Length</c> and returns how many were written.
    /// </summary>
    public int FindAll(ReadOnlySpan<char> normalizedText, Span<PatternMatch> matches)
    {
        var count = 0;
        var s = 0;
        for (var i = 0; i < normalizedText.Length && count < matches.Length; i++)
        {
            var c = normalizedText[i];
            int t;
            while (true)
            {
                t = s == 0 ? _rootNext[c] : Child(s, c);
                if (t >= 0 || s == 0) break;
                s = _fail[s];
            }
            s = t < 0 ? 0 : t;
            var o = _firstOut[s] >= 0 ? s : _dictLink[s];
            while (o >= 0 && count < matches.Length)
            {
                for (var p = _firstOut[o]; p >= 0 && count < matches.Length; p = _nextOut[p])
                {
                    var len = _patLen[p];
                    var start = i + 1 - len;
                    if (_wordLeft[p] && start > 0 && IsWordChar(normalizedText[start - 1])) continue;
                    if (_wordRight[p] && i + 1 < normalizedText.Length && IsWordChar(normalizedText[i + 1])) continue;
                    matches[count++] = new PatternMatch(_patId[p], start, len);
                }
                o = _dictLink[o];
            }
        }
        return count;
    }

    private int Child(int s, char c)
    {
        var lo = _childStart[s];
        var hi = _childStart[s + 1] - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var l = _labels[mid];
            if (l == c) return _targets[mid];
            if (l < c) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    private static bool IsWordChar(char c) =>
        c < '\u0080' ? char.IsAsciiLetterOrDigit(c) || c == '_' : char.IsLetterOrDigit(c)
            || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    // Burmese, Thai, Lao, Tibetan, Khmer, kana and CJK: words are not separated by spaces, so no boundary check.
    private static bool NoSpaceScript(char c) =>
        Burmese.IsRunChar(c) || c is >= '\u0E00' and <= '\u0FFF' or >= '\u1780' and <= '\u17FF'
            or >= '\u3040' and <= '\u30FF' or >= '\u3400' and <= '\u9FFF' or >= '\uF900' and <= '\uFAFF';
}
