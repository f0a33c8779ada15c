using System.Security.Cryptography;
using System.Text;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Tests;

/// <summary>
/// The models' input contracts: the default normaliser's output, the tokens and the features of varied texts must stay
/// identical, bit for bit, whatever is done to make them faster, for every algorithm a model may have been trained
/// with: "ew-hash-v3" (the default model since 2026-12-07) and "ew-hash-v2" (the default model before it; models
/// trained with it are still served). The expected values are SHA-256 digests computed with the implementation each
/// was introduced with (v2's before v3 existed; normalised text and tokens are common to both); only digests are committed
/// (texts are read at test time from MIT data: Davidson, MLMA, Sinhala; Apache-2.0 myanmar-tools; and seeded
/// synthetic obfuscations of them).
/// </summary>
public class GoldenFeatureTests
{
    private static readonly FeatureHasher Hasher = new();
    private static readonly FeatureHasher HasherV2 = new(new FeaturizerOptions { Algorithm = FeaturizerOptions.AlgorithmV2 });

    public static TheoryData<string, string, string, string> GoldenV3 => new()
    {
        // corpus, normalised text, tokens, features
        { "davidson", "E52884814A3B73F0F95AC5401E9D0D8E", "BE87C37A905E09635DC6F908CC0236D3", "CE89CF7F608635E5E541AF2C7B6E9611" },
        { "mlma-en", "8595ED2A3DB1668A53AB842D37B0418D", "F99401A19ED2545345BAF36A50DB10A2", "8163E841A5E66FCE1D59573B76F44B19" },
        { "mlma-fr", "72509F13F89A04FBB9D1C9ADC80AF390", "3F36B06E7DF75D48C837552F3EF4E35B", "F105190CD451F00B19C9DD3913DE1EB1" },
        { "mlma-ar", "DA066AA0CEE406DA031B912852A46A8D", "E2BD678BC1651AFAC6DD66F72FE093D1", "04F575DA979341531D73946B0080CB49" },
        { "sinhala", "290D1078E6C80A24E59E44170BA8F63E", "E4B2F83572648EF30197CCE54EDEE3FA", "54E94BD088C57489DD1BDDD064695007" },
        { "myanmar-tools", "2D6DA67BBF7C6297C57BBB9340C3EAD1", "C3D0E664272290DB90A242700388EEDF", "482654AEB57110EE815289FB4228E2AF" },
        { "obfuscated", "03E2C72FA48D36CB864A494DB3DB52A0", "26D8ED191C939C9723D9A2F67FD25BFD", "FA52C19D7249A5CF254473C03645E57F" },
        { "random", "D0B80229F099852FE9AC1AF7795D0D9B", "A9990E91D2EC2470990FE4D5407CCF3D", "F48EB1422C2461FC9A4368D2C3C97CF1" },
    };

    public static TheoryData<string, string, string, string> GoldenV2 => new()
    {
        // corpus, normalised text, tokens, features
        { "davidson", "E52884814A3B73F0F95AC5401E9D0D8E", "BE87C37A905E09635DC6F908CC0236D3", "F8EC2131AF8C3C1091710E1D66BF513F" },
        { "mlma-en", "8595ED2A3DB1668A53AB842D37B0418D", "F99401A19ED2545345BAF36A50DB10A2", "BC08B9D4811AF342697B0D0DFA412533" },
        { "mlma-fr", "72509F13F89A04FBB9D1C9ADC80AF390", "3F36B06E7DF75D48C837552F3EF4E35B", "F0E3952F2A05E6A2AC538F23EAE04070" },
        { "mlma-ar", "DA066AA0CEE406DA031B912852A46A8D", "E2BD678BC1651AFAC6DD66F72FE093D1", "A8F570C79AA56E64A75FF5475CC4777B" },
        { "sinhala", "290D1078E6C80A24E59E44170BA8F63E", "E4B2F83572648EF30197CCE54EDEE3FA", "E72591AEC734F330CFD564907663DD4B" },
        { "myanmar-tools", "2D6DA67BBF7C6297C57BBB9340C3EAD1", "C3D0E664272290DB90A242700388EEDF", "140D440928D33225B228563724FFAB2A" },
        { "obfuscated", "03E2C72FA48D36CB864A494DB3DB52A0", "26D8ED191C939C9723D9A2F67FD25BFD", "DDF3919346D5EDD75D71D8E8317AB0C3" },
        { "random", "D0B80229F099852FE9AC1AF7795D0D9B", "A9990E91D2EC2470990FE4D5407CCF3D", "72DF78DB9C38782B5FED1EAA64599789" },
    };

    [Theory]
    [MemberData(nameof(GoldenV3))]
    public void Default_path_is_bit_identical_to_the_trained_contract(string corpus, string normDigest, string tokenDigest, string featureDigest)
    {
        Assert.Equal("ew-hash-v3", Hasher.Options.Algorithm);
        Check(Hasher, corpus, normDigest, tokenDigest, featureDigest);
    }

    [Theory]
    [MemberData(nameof(GoldenV2))]
    public void V2_path_is_bit_identical_to_its_trained_contract(string corpus, string normDigest, string tokenDigest, string featureDigest) =>
        Check(HasherV2, corpus, normDigest, tokenDigest, featureDigest);

    private static void Check(FeatureHasher hasher, string corpus, string normDigest, string tokenDigest, string featureDigest)
    {
        var texts = Texts(corpus);
        Assert.True(texts.Count >= 200, $"{corpus}: only {texts.Count} texts");
        var (n, t, f) = Digests(texts, hasher);
        Assert.True(normDigest == n && tokenDigest == t && featureDigest == f,
            $"{corpus} ({hasher.Options.Algorithm}): expected {normDigest}/{tokenDigest}/{featureDigest}, got {n}/{t}/{f}");
    }

    [Fact]
    public void Digests_are_sensitive_to_a_single_feature()
    {
        // The digest must notice a one-feature change, or the golden test above could not fail.
        var texts = Texts("davidson");
        var (_, _, f1) = Digests(texts);
        texts[17] += " x";
        var (_, _, f2) = Digests(texts);
        Assert.NotEqual(f1, f2);
    }

    internal static (string Norm, string Tokens, string Features) Digests(IReadOnlyList<string> texts, FeatureHasher? hasher = null)
    {
        hasher ??= Hasher;
        using var norm = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var toks = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var feats = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buf = new char[TextNormalizer.MaxOutputLength(70_000)];
        var idx = new int[1024];
        var val = new float[1024];
        Span<byte> b = stackalloc byte[12];
        foreach (var text in texts)
        {
            hasher.Normalizer.Normalize(text, buf, out var len);
            var s = buf.AsSpan(0, len);
            norm.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s));
            norm.AppendData([0xFF, 0xFF]);
            foreach (var tok in Tokenizer.Tokenize(s))
            {
                BitConverter.TryWriteBytes(b, tok.Start);
                BitConverter.TryWriteBytes(b[4..], tok.Length);
                BitConverter.TryWriteBytes(b[8..], (int)tok.Kind);
                toks.AppendData(b);
            }
            toks.AppendData([0xFF]);
            var n = hasher.Featurize(text, idx, val);
            BitConverter.TryWriteBytes(b, n);
            feats.AppendData(b[..4]);
            for (var i = 0; i < n; i++)
            {
                BitConverter.TryWriteBytes(b, idx[i]);
                BitConverter.TryWriteBytes(b[4..], BitConverter.SingleToInt32Bits(val[i]));
                feats.AppendData(b[..8]);
            }
        }
        return (Hex(norm), Hex(toks), Hex(feats));
    }

    private static string Hex(IncrementalHash h) => Convert.ToHexString(h.GetHashAndReset())[..32];

    internal static List<string> Texts(string corpus) => corpus switch
    {
        "myanmar-tools" => MyanmarTools(),
        "obfuscated" => Obfuscated(),
        "random" => RandomMix(),
        _ => Corpus.Texts(corpus, 300),
    };

    private static List<string> MyanmarTools()
    {
        var list = new List<string>();
        foreach (var f in new[] { "mmgov_zawgyi_src.txt", "mmgov_unicode_out.txt", "udhr_mya_unicode_src.txt", "udhr_mya_zawgyi_out.txt" })
            list.AddRange(File.ReadLines(EarlyWarning.Tests.TestPaths.Data("myanmar-tools", f)).Where(l => l.Length > 0).Take(60));
        return list;
    }

    // Every de-obfuscation branch, applied to real English/French sentences with a fixed seed.
    private static List<string> Obfuscated()
    {
        var rng = new Random(20261123);
        var src = Corpus.Texts("davidson", 150).Concat(Corpus.Texts("mlma-fr", 150)).ToList();
        var list = new List<string>();
        var sb = new StringBuilder();
        foreach (var text in src)
        {
            sb.Clear();
            foreach (var c in text)
            {
                switch (rng.Next(40))
                {
                    case 0: sb.Append(c).Append('\u200B'); break;
                    case 1: sb.Append(char.ToUpperInvariant(c)); break;
                    case 2: sb.Append(c switch { 'o' => '0', 'i' => '1', 'e' => '3', 'a' => '4', 's' => '$', 't' => '7', 'l' => '|', _ => c }); break;
                    case 3: sb.Append(c).Append(' '); break;
                    case 4: sb.Append(c switch { 'a' => 'а', 'e' => 'е', 'o' => 'о', 'p' => 'р', 'c' => 'с', 'i' => 'і', 'k' => 'к', 'x' => 'х', _ => c }); break;
                    case 5: sb.Append(c is >= 'a' and <= 'z' ? (char)(c - 'a' + 'ａ') : c); break;
                    case 6: sb.Append(c, 4); break;
                    case 7: sb.Append(c).Append("\uD83D\uDE00\uD83C\uDFFD"); break;
                    case 8: sb.Append(c).Append('.'); break;
                    case 9: sb.Append(c).Append('\u0301'); break;
                    case 10: sb.Append(c).Append('\u00AD'); break;
                    case 11: sb.Append(c).Append("\uFB01"); break;
                    default: sb.Append(c); break;
                }
            }
            if (rng.Next(4) == 0) sb.Append(" k i l l t.h.e.m https://x.example/a?b #Tag_1 @some_one ");
            list.Add(sb.ToString());
        }
        return list;
    }

    // Seeded mixes of many scripts, marks, invisibles, controls and lone surrogates.
    private static List<string> RandomMix()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,-_*'@#$!|:/\n\t\u0001\u007F\u0085"
            + "éüñçÀß\u0131ıİΑαβοκρσςЖжакорс\u0430\u0435\u0456\u0455"
            + "\u0627\u0644\u0639\u0631\u0628\u064A\u0640\u064B\u0650\u0651"
            + "\u0D85\u0DC3\u0DD2\u0DC0\u0DCA\u0DD9\u0DCF\u200D"
            + "\u1200\u1208\u1218\u12A0\u1362\u1369"
            + "\u0915\u093F\u094D\u0937\u0B95\u0BBF\u0BCD"
            + "\u1000\u1031\u103B\u1039\u103A\u1037\u102D\u102F\u1040\u104B\u1060\u107E"
            + "\u0E01\u0E32\u0E31\u4E00\u4E8C\u3042\uAC00\u1100\u1161"
            + "\u200B\u200C\u200E\u202E\u2060\uFEFF\uFE0F\u00A0\u2026\uFF21\uFB01\u2460\u00BD"
            + "\uD83D\uDE00\uD83C\uDFFB\uD840\uDC00\u2764\u00A9";
        var rng = new Random(777);
        var list = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var len = rng.Next(0, 160);
            var a = new char[len];
            for (var j = 0; j < len; j++) a[j] = alphabet[rng.Next(alphabet.Length)];
            list.Add(new string(a));
        }
        return list;
    }
}
