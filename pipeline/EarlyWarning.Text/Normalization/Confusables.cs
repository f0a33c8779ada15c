namespace EarlyWarning.Text.Normalization;

/// <summary>
/// Lower-case Cyrillic and Greek letters that look like Latin letters, folded to the Latin letter they imitate
/// (after case folding, so capitals that look Latin, such as Cyrillic В Н Т М К, are covered through their lower case).
/// Fullwidth, mathematical and circled letters are already folded by NFKC.
/// </summary>
internal static class Confusables
{
    private static readonly char[] Map = Build();

    /// <summary>The Latin look-alike of <paramref name="c"/>, or '\0' when it has none.</summary>
    public static char Fold(char c) => c is >= '\u0370' and < '\u0530' ? Map[c - 0x0370] : c switch
    {
        '\u0131' => 'i', // dotless i
        '\u0261' => 'g', // script g
        '\u026A' => 'i', // small capital I
        '\u0274' => 'n', // small capital N
        '\u0280' => 'r', // small capital R
        '\u028F' => 'y', // small capital Y
        '\u1D00' => 'a', '\u1D04' => 'c', '\u1D05' => 'd', '\u1D07' => 'e', '\u1D0A' => 'j', '\u1D0B' => 'k',
        '\u1D0D' => 'm', '\u1D0F' => 'o', '\u1D18' => 'p', '\u1D1B' => 't', '\u1D1C' => 'u', '\u1D20' => 'v',
        '\u1D21' => 'w', '\u1D22' => 'z',
        _ => '\0',
    };

    /// <summary>True for Latin letters (ASCII and Latin-1/Extended ranges).</summary>
    public static bool IsLatinLetter(char c) =>
        (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (c is >= '\u00C0' and <= '\u024F' && c != '\u00D7' && c != '\u00F7');

    private static char[] Build()
    {
        var m = new char[0x0530 - 0x0370];
        void Set(string from, string to)
        {
            for (var i = 0; i < from.Length; i++) m[from[i] - 0x0370] = to[i];
        }
        // Greek (lower case after folding): alpha, beta, epsilon, eta, iota, kappa, nu, omicron, rho, tau, upsilon, chi,
        // gamma, mu, final sigma, omega, and tonos variants.
        Set("\u03B1\u03B2\u03B5\u03B7\u03B9\u03BA\u03BD\u03BF\u03C1\u03C4\u03C5\u03C7\u03B3\u03BC\u03C2\u03C9",
            "abenikvoptuxyucw");
        Set("\u03AC\u03AD\u03AE\u03AF\u03CC\u03CD\u03CE\u03CA\u03CB", "aeniouwiu");
        // Cyrillic: a, ve, ie, ka, em, en, o, pe, er, es, te, u, ha, ghe, soft sign; then dze, byelorussian i, yi, je,
        // shha, komi de, qa, we, palochka, straight u, io, ukrainian ie.
        Set("\u0430\u0432\u0435\u043A\u043C\u043D\u043E\u043F\u0440\u0441\u0442\u0443\u0445\u0433\u044C",
            "abekmhonpctyxrb");
        Set("\u0455\u0456\u0457\u0458\u04BB\u0501\u051B\u051D\u04CF\u04AF\u0451\u0454",
            "siijhdqwlyee");
        return m;
    }
}
