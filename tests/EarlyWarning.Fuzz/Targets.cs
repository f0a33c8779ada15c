using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Models.Datasets;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Fuzz;

/// <summary>
/// Core's strict JSON decoder, and for every message it accepts, the pseudonymising rewrite of its raw JSON: the
/// rewrite must succeed, decode again to the same post, and carry the pseudonym of the author.
/// </summary>
public static class PostDecoderTarget
{
    private static readonly PostDecoder Decoder = new();
    private static readonly Pseudonymizer Pseudonymizer = new(Encoding.ASCII.GetBytes("fuzz-key-0123456789abcdef"));

    public static void Run(ReadOnlySpan<byte> data)
    {
        var bytes = data.ToArray();
        if (!Decoder.TryDecode(bytes, out var post, out var reason))
        {
            if (string.IsNullOrEmpty(reason)) throw new FuzzFailure("rejected without a reason");
            return;
        }
        if (post is null || string.IsNullOrEmpty(post.Id) || string.IsNullOrEmpty(post.AuthorId) || post.Text is null)
            throw new FuzzFailure("accepted a post without its required fields");
        var rewritten = RawSanitizer.Rewrite(post.Raw.Span, Pseudonymizer);
        if (!Decoder.TryDecode(rewritten, out var again, out var why))
            throw new FuzzFailure("the pseudonymised raw JSON no longer decodes: " + why);
        if (again!.Id != post.Id || again.CreatedAt != post.CreatedAt || again.Text != post.Text)
            throw new FuzzFailure("the pseudonymised raw JSON decodes to another post");
        if (again.AuthorId != Pseudonymizer.Pseudonymize(post.AuthorId))
            throw new FuzzFailure("the pseudonymised raw JSON does not carry the author's pseudonym");
    }
}

/// <summary>The text stage: normalisation and hashed features over arbitrary UTF-16 (lone surrogates included).</summary>
public static class TextTarget
{
    private static readonly TextNormalizer Normalizer = new();
    private static readonly FeatureHasher Hasher = new();
    private static readonly FeatureHasher HasherV2 = new(new FeaturizerOptions { Algorithm = FeaturizerOptions.AlgorithmV2 });

    public static void Run(ReadOnlySpan<byte> data)
    {
        // First byte picks the decoding: UTF-8 (valid text) or raw UTF-16 code units (any char sequence at all).
        ReadOnlySpan<char> text;
        if (data.Length > 0 && (data[0] & 1) == 1)
            text = MemoryMarshal.Cast<byte, char>(data[1..(1 + ((data.Length - 1) & ~1))]);
        else
            text = Encoding.UTF8.GetString(data).AsSpan();
        var output = new char[TextNormalizer.MaxOutputLength(text.Length)];
        var status = Normalizer.Normalize(text, output, out var written);
        if (status != System.Buffers.OperationStatus.Done) throw new FuzzFailure($"normalise returned {status} with a buffer of MaxOutputLength");
        if (written < 0 || written > output.Length) throw new FuzzFailure("normalise wrote outside its buffer");
        Span<int> indices = stackalloc int[1024];
        Span<float> values = stackalloc float[1024];
        CheckFeatures(Hasher, text, indices, values, sortedDistinct: false); // ew-hash-v3 (default): entries in text order
        CheckFeatures(HasherV2, text, indices, values, sortedDistinct: true); // ew-hash-v2 (older models)
    }

    private static void CheckFeatures(FeatureHasher hasher, ReadOnlySpan<char> text, Span<int> indices, Span<float> values, bool sortedDistinct)
    {
        var n = hasher.Featurize(text, indices, values);
        if (n < 0 || n > indices.Length) throw new FuzzFailure("featurize returned an impossible count");
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            if (sortedDistinct && i > 0 && indices[i] <= indices[i - 1]) throw new FuzzFailure("feature indices are not sorted and distinct");
            if ((uint)indices[i] >= (uint)hasher.Options.Dimension) throw new FuzzFailure("feature index outside the space");
            if (!float.IsFinite(values[i])) throw new FuzzFailure("feature value is not finite");
            sum += values[i] * (double)values[i];
        }
        if (n > 0 && Math.Abs(sum - 1) > 1e-3) throw new FuzzFailure("features are not L2-normalised");
    }
}

/// <summary>The Models' labelled-data readers: the CSV reader in memory, and the generic CSV and JSONL loaders on a file.</summary>
public static class DatasetTarget
{
    private static readonly string Dir = CreateDir();

    public static void Run(ReadOnlySpan<byte> data)
    {
        var text = Encoding.UTF8.GetString(data);
        var csv = new CsvReader(new StringReader(text));
        var records = 0;
        while (csv.ReadRecord() is { } rec)
        {
            if (rec.Count == 0) throw new FuzzFailure("a CSV record with no fields");
            if (++records > data.Length + 1) throw new FuzzFailure("the CSV reader returns more records than the input has bytes");
        }
        // The loaders read files; the low bit of the first byte picks the format.
        var path = Path.Combine(Dir, $"in-{Environment.CurrentManagedThreadId}" + (data.Length > 0 && (data[0] & 1) == 1 ? ".jsonl" : ".csv"));
        File.WriteAllBytes(path, data.ToArray());
        var result = DatasetLoader.Load(path);
        foreach (var e in result.Examples)
        {
            if (e.Text is null || Array.IndexOf(Labels.All, e.Label) < 0) throw new FuzzFailure("a loaded example without text or with an unknown label");
        }
        foreach (var s in result.Skipped)
        {
            if (string.IsNullOrEmpty(s.Reason)) throw new FuzzFailure("a skipped row without a reason");
        }
    }

    private static string CreateDir()
    {
        var baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(baseDir, $"ew-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>A property a target checks did not hold (as opposed to an exception from the code under test).</summary>
public sealed class FuzzFailure(string message) : Exception(message);

/// <summary>The targets by name.</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, FuzzTarget> All = new Dictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["decoder"] = PostDecoderTarget.Run,
        ["text"] = TextTarget.Run,
        ["dataset"] = DatasetTarget.Run,
    };
}

/// <summary>One fuzz target.</summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> data);

/// <summary>Seed inputs per target: valid examples the mutator starts from.</summary>
public static class Seeds
{
    public static IReadOnlyList<byte[]> For(string target) => target switch
    {
        "decoder" => Posts(),
        "text" => Texts(),
        _ => Datasets(),
    };

    private static List<byte[]> Posts()
    {
        var list = new List<byte[]>
        {
            """{"id":"tw:1","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1","handle":"someone","followers":15},"text":"hello","lang":"en","geo":{"country":"MM","region":"Rakhine","lat":1.5},"mentions":["u:2"],"hashtags":["x"],"urls":["https://e.org"],"media":[{"type":"image","pdq":"f8","md5":"00"}]}"""u8.ToArray(),
            """{"id":"a","created_at":"2026-11-08","author":{"id":"b"},"text":"","media":[{"type":"video"}],"reply_to":null,"extra":{"deep":[1,2,{"x":true}]}}"""u8.ToArray(),
            "\uFEFF{\"id\":\"x\",\"created_at\":\"2026-11-08T06:15:03+02:00\",\"author\":{\"id\":\"y\"},\"text\":\"\\u00e9\\n\"}"u8.ToArray(),
            """{"id":"z","created_at":"2026-11-08T06:15:03Z","author":{"id":"q","handle":null},"text":"t","mentions":[]}"""u8.ToArray(),
        };
        var sim = new EarlyWarning.App.Simulation.Simulator(seed: 3, posts: 2000);
        list.AddRange(sim.Generate().Take(40).Select(p => p.Json));
        return list;
    }

    private static List<byte[]> Texts() =>
    [
        .. new[]
        {
            "Hello World", "h3ll0 w0rld!!!", "sooooo baaaad", "k i l l them", "ｆｕｌｌｗｉｄｔｈ", "zero\u200Bwidth\u200Djoin", "Ꭺрр1е hоmоglурh",
            "မြန်မာ စာ", "ျမန္မာ", "සිංහල", "தமிழ்", "Kiswahili sanifu", "emoji 😀🔥 ok", "Ǆ ǅ ǆ ﬁ ﬃ", "a\u0301\u0302\u0303 combining", "\t\r\n\0control",
        }.Select(Encoding.UTF8.GetBytes),
        [1, 0x00, 0xD8, 0x41, 0x00, 0x00, 0xDC], // UTF-16 mode: a lone high surrogate, 'A', a lone low surrogate
    ];

    private static List<byte[]> Datasets() =>
    [
        .. new[]
        {
            "text,label\nhello,none\n\"quoted, comma\",hate\n\"doubled \"\"quote\"\"\",offensive\n",
            "text,label,lang,target\n\"multi\nline\",hateful,en,women\nx,2,sw,\n",
            "label,text\n0,a\n1,b\n",
            "\uFEFFtext,label\n\"unterminated,none\n",
            "{\"text\":\"hello\",\"label\":\"hate\",\"lang\":\"en\"}\n{\"text\":\"x\",\"label\":1}\n[1,2]\n\n",
            "{\"text\":\"a\",\"label\":\"non-hateful\",\"target\":\"jews\"}\n",
        }.Select(Encoding.UTF8.GetBytes),
    ];
}
