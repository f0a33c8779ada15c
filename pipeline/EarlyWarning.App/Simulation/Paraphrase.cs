using System.Text;

namespace EarlyWarning.App.Simulation;

/// <summary>
/// Paraphrases of a campaign message: the template marks swappable slots as <c>[default|synonym|...]</c>;
/// each paraphrase swaps one to three slots for a synonym, so paraphrases differ but share most words.
/// </summary>
internal static class Paraphrase
{
    /// <summary>A template split into fixed text and slots (a fixed part is a slot with one option).</summary>
    internal static List<string[]> Parse(string template)
    {
        var parts = new List<string[]>();
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('[', i);
            if (open < 0) { parts.Add([template[i..]]); break; }
            if (open > i) parts.Add([template[i..open]]);
            var close = template.IndexOf(']', open);
            if (close < 0) throw new FormatException("unclosed slot in paraphrase template");
            parts.Add(template[(open + 1)..close].Split('|'));
            i = close + 1;
        }
        return parts;
    }

    /// <summary>The message with every slot at its default.</summary>
    internal static string Default(string template) => Join(Parse(template), null);

    /// <summary><paramref name="count"/> distinct paraphrases (distinct as long as the template allows).</summary>
    internal static string[] Variants(string template, int count, ref SimRandom rng)
    {
        var parts = Parse(template);
        var slots = new List<int>();
        for (var p = 0; p < parts.Count; p++) if (parts[p].Length > 1) slots.Add(p);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new string[count];
        var choice = new int[parts.Count];
        for (var v = 0; v < count; v++)
        {
            string text;
            var attempts = 0;
            do
            {
                Array.Clear(choice);
                var swaps = Math.Min(slots.Count, 1 + rng.Next(3));
                for (var s = 0; s < swaps; s++)
                {
                    int slot;
                    do slot = slots[rng.Next(slots.Count)]; while (choice[slot] != 0);
                    choice[slot] = 1 + rng.Next(parts[slot].Length - 1);
                }
                text = Join(parts, choice);
            }
            while (!seen.Add(text) && ++attempts < 1000);
            result[v] = text;
        }
        return result;
    }

    private static string Join(List<string[]> parts, int[]? choice)
    {
        var sb = new StringBuilder(128);
        for (var p = 0; p < parts.Count; p++) sb.Append(parts[p][choice is null ? 0 : choice[p]]);
        return sb.Replace(" ,", ",").ToString();
    }
}
