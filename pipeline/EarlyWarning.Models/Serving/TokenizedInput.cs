using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace EarlyWarning.Models.Serving;

/// <summary>
/// Input side of a plug-in ONNX model over token ids: tokenises with Microsoft.ML.Tokenizers (WordPiece/BERT from the
/// manifest's vocabulary file), pads each batch to its longest row with the pad id, and feeds <c>input_ids</c> (int64
/// or int32, as the graph declares) and, when the graph has a second input, an attention mask of the same type.
/// The model's output is [N, labels]: probabilities, or logits when the manifest says <c>output_kind: logits</c>.
/// </summary>
public sealed class TokenizedInput
{
    private readonly Tokenizer _tokenizer;
    private bool _int64 = true;

    private TokenizedInput(Tokenizer tokenizer, TokenizerSpec spec)
    {
        _tokenizer = tokenizer;
        Spec = spec;
    }

    public TokenizerSpec Spec { get; }
    public Tokenizer Tokenizer => _tokenizer;
    public string[] InputNames { get; private set; } = [];
    public string OutputName { get; private set; } = "";

    /// <summary>Builds the tokenizer the manifest names; <see cref="InvalidDataException"/> with the reason when it cannot.</summary>
    public static TokenizedInput Create(string modelDir, ModelManifest manifest)
    {
        var spec = manifest.Tokenizer ?? throw new InvalidDataException("manifest has no tokenizer");
        if (spec.MaxTokens is < 1 or > 8192) throw new InvalidDataException($"tokenizer max_tokens {spec.MaxTokens} out of range 1..8192");
        var vocab = Path.GetFullPath(Path.Combine(modelDir, spec.Vocab));
        if (!vocab.StartsWith(Path.GetFullPath(modelDir), StringComparison.Ordinal)) throw new InvalidDataException($"tokenizer vocab '{spec.Vocab}' is outside the model directory");
        if (!File.Exists(vocab)) throw new InvalidDataException($"tokenizer vocab not found: {vocab}");
        Tokenizer tokenizer = spec.Type switch
        {
            TokenizerSpec.WordPiece => BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = spec.Lowercase }),
            _ => throw new InvalidDataException($"unsupported tokenizer type '{spec.Type}' (supported: {TokenizerSpec.WordPiece})"),
        };
        return new TokenizedInput(tokenizer, spec);
    }

    internal void Bind(InferenceSession session, string onnxPath, int classes)
    {
        var inputs = session.InputMetadata.Keys.ToList();
        if (inputs.Count is < 1 or > 2) throw new InvalidDataException($"model {onnxPath} has {inputs.Count} inputs; a token-id model takes input_ids and optionally attention_mask");
        var ids = inputs.FirstOrDefault(n => n.Contains("ids", StringComparison.OrdinalIgnoreCase)) ?? inputs[0];
        var mask = inputs.FirstOrDefault(n => n != ids);
        var type = session.InputMetadata[ids].ElementType;
        if (type != typeof(long) && type != typeof(int)) throw new InvalidDataException($"model {onnxPath}: input '{ids}' is {type.Name}, not int64/int32");
        if (mask is not null && session.InputMetadata[mask].ElementType != type) throw new InvalidDataException($"model {onnxPath}: '{mask}' and '{ids}' differ in type");
        _int64 = type == typeof(long);
        InputNames = mask is null ? [ids] : [ids, mask];
        OutputName = session.OutputMetadata.Keys.First();
        var dims = session.OutputMetadata[OutputName].Dimensions;
        if (dims.Length != 2 || (dims[1] > 0 && dims[1] != classes))
            throw new InvalidDataException($"model {onnxPath}: output '{OutputName}' is [{string.Join(',', dims)}], expected [N,{classes}]");
    }

    /// <summary>Token ids of one text as the model sees them (special tokens included, truncated to max_tokens).</summary>
    public IReadOnlyList<int> Encode(string text) => _tokenizer is BertTokenizer bert
        ? bert.EncodeToIds(text ?? "", Spec.MaxTokens, addSpecialTokens: true, out _, out _)
        : _tokenizer.EncodeToIds(text ?? "", Spec.MaxTokens, out _, out _);

    internal void Run(InferenceSession session, IReadOnlyList<string> texts, int start, int n, Span<float> output, int classes, bool logits)
    {
        var rows = new IReadOnlyList<int>[n];
        var t = 1;
        for (var r = 0; r < n; r++)
        {
            rows[r] = Encode(texts[start + r] ?? "");
            t = Math.Max(t, rows[r].Count);
        }
        var probs = ArrayPool<float>.Shared.Rent(n * classes);
        try
        {
            long[] shape = [n, t];
            using var outValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, probs.AsMemory(0, n * classes), [n, classes]);
            using var runOptions = new RunOptions();
            if (_int64)
            {
                var ids = new long[n * t];
                var mask = new long[n * t];
                Fill(rows, t, ids, mask, v => v);
                RunWith(session, runOptions, shape, ids, mask, outValue);
            }
            else
            {
                var ids = new int[n * t];
                var mask = new int[n * t];
                Fill(rows, t, ids, mask, v => (int)v);
                RunWith(session, runOptions, shape, ids, mask, outValue);
            }
            var result = probs.AsSpan(0, n * classes);
            if (logits)
                for (var r = 0; r < n; r++) Training.LinearModel.Softmax(result.Slice(r * classes, classes));
            result.CopyTo(output);
        }
        finally { ArrayPool<float>.Shared.Return(probs); }
    }

    private void Fill<T>(IReadOnlyList<int>[] rows, int t, T[] ids, T[] mask, Func<long, T> cast)
    {
        var pad = cast(Spec.PadId);
        var one = cast(1);
        var zero = cast(0);
        for (var r = 0; r < rows.Length; r++)
            for (var j = 0; j < t; j++)
            {
                var has = j < rows[r].Count;
                ids[r * t + j] = has ? cast(rows[r][j]) : pad;
                mask[r * t + j] = has ? one : zero;
            }
    }

    private void RunWith<T>(InferenceSession session, RunOptions runOptions, long[] shape, T[] ids, T[] mask, OrtValue outValue) where T : unmanaged
    {
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        OrtValue[] inputs = InputNames.Length == 1 ? [idsValue] : [idsValue, maskValue];
        session.Run(runOptions, InputNames, inputs, [OutputName], [outValue]);
    }
}
