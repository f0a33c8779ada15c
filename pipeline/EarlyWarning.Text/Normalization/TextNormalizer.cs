using System.Buffers;
using System.Globalization;
using System.Text;

namespace EarlyWarning.Text.Normalization;

/// <summary>Which normalisation steps run; each is switchable and tested on its own.</summary>
[Flags]
public enum NormalizationSteps
{
    None = 0,
    Nfkc = 1 << 0,
    CaseFold = 1 << 1,
    StripInvisible = 1 << 2,
    Homoglyphs = 1 << 3,
    CollapseRepeats = 1 << 4,
    Leet = 1 << 5,
    JoinSpacedLetters = 1 << 6,
    Default = Nfkc | CaseFold | StripInvisible | Homoglyphs | CollapseRepeats | Leet | JoinSpacedLetters,
}

/// <summary>
/// Unicode normalisation and de-obfuscation into a caller-provided buffer.
/// </summary>
public sealed class TextNormalizer
{
    public TextNormalizer(NormalizationSteps steps = NormalizationSteps.Default) => Steps = steps;

    public NormalizationSteps Steps { get; }

    /// <summary>Worst-case output length for an input of <paramref name="inputLength"/> chars (NFKC may expand up to 18×).</summary>
    public static int MaxOutputLength(int inputLength) => checked(inputLength * 18 + 16);

    /// <summary>Normalises <paramref name="input"/> into <paramref name="output"/>.</summary>
    public OperationStatus Normalize(ReadOnlySpan<char> input, Span<char> output, out int written)
    {
        written = 0;
        ReadOnlySpan<char> src = input;
        string? nfkc = null;
        if ((Steps & NormalizationSteps.Nfkc) != 0 && !IsAscii(input))
        {
            try { nfkc = input.ToString().Normalize(NormalizationForm.FormKC); }
            catch (ArgumentException) { nfkc = null; } // lone surrogates: keep the text as it is
            if (nfkc is not null) src = nfkc;
        }
        var pos = 0;
        var last = '\0';
        var repeat = 0;
        foreach (var c0 in src)
        {
            var c = c0;
            if ((Steps & NormalizationSteps.StripInvisible) != 0 && IsInvisible(c)) continue;
            if ((Steps & NormalizationSteps.CaseFold) != 0) c = char.ToLowerInvariant(c);
            if ((Steps & NormalizationSteps.Leet) != 0) c = Leet(c, last);
            if ((Steps & NormalizationSteps.CollapseRepeats) != 0)
            {
                if (c == last && char.IsLetter(c)) { if (++repeat >= 2) continue; }
                else repeat = 0;
            }
            if (pos >= output.Length) return OperationStatus.DestinationTooSmall;
            output[pos++] = c;
            last = c;
        }
        written = pos;
        return OperationStatus.Done;
    }

    /// <summary>Convenience overload that allocates; not for the hot path.</summary>
    public string Normalize(string input)
    {
        var buffer = ArrayPool<char>.Shared.Rent(MaxOutputLength(input.Length));
        try
        {
            Normalize(input, buffer, out var n);
            return new string(buffer, 0, n);
        }
        finally { ArrayPool<char>.Shared.Return(buffer); }
    }

    private static bool IsAscii(ReadOnlySpan<char> s) => Ascii.IsValid(s);

    private static bool IsInvisible(char c) =>
        c is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD'
        || (char.IsControl(c) && c is not '\n' and not '\t')
        || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format && c is not '\u200C' and not '\u200D';

    private static char Leet(char c, char previous) => c switch
    {
        '0' when char.IsLetter(previous) => 'o',
        '1' when char.IsLetter(previous) => 'i',
        '3' when char.IsLetter(previous) => 'e',
        '4' when char.IsLetter(previous) => 'a',
        '5' when char.IsLetter(previous) => 's',
        '7' when char.IsLetter(previous) => 't',
        '@' when char.IsLetter(previous) => 'a',
        '$' when char.IsLetter(previous) => 's',
        _ => c,
    };
}
