using EarlyWarning.Models.Training;
using static EarlyWarning.Models.Onnx.OnnxProto;

namespace EarlyWarning.Models.Onnx;

/// <summary>
/// Writes an <see cref="EmbeddingBagModel"/> as ONNX (opset 13): <c>indices</c> int32 [N,K], <c>values</c> float [N,K]
/// → Gather(E, indices) [N,K,D]; MatMul(Unsqueeze(values, 1) [N,1,K], that) → Squeeze [N,D] → MatMul(W2) [N,C] → Add(B) → Softmax
/// → <c>probabilities</c>. Same inputs and output as the linear graph, so serving runs either.
/// </summary>
public static class OnnxEmbeddingBagWriter
{
    public const string EmbeddingsName = "E";
    public const string OutputName = "W2";

    public static void Write(EmbeddingBagModel model, string path, string producerVersion, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var fs = File.Create(path);
        Write(model, fs, producerVersion, metadata);
    }

    public static void Write(EmbeddingBagModel model, Stream stream, string producerVersion, IReadOnlyDictionary<string, string>? metadata = null)
    {
        const string indices = OnnxLinearModelWriter.IndicesInput, values = OnnxLinearModelWriter.ValuesInput;
        var graph = Message(g =>
        {
            Field(g, 1, Node("gather", "Gather", [EmbeddingsName, indices], ["gathered"], IntAttr("axis", 0)));
            Field(g, 1, Node("unsqueeze", "Unsqueeze", [values, "unsqueeze_axes"], ["values3"]));
            Field(g, 1, Node("bagsum", "MatMul", ["values3", "gathered"], ["bag3"]));
            Field(g, 1, Node("squeeze", "Squeeze", ["bag3", "unsqueeze_axes"], ["bag"]));
            Field(g, 1, Node("matmul", "MatMul", ["bag", OutputName], ["projected"]));
            Field(g, 1, Node("add", "Add", ["projected", OnnxLinearModelWriter.BiasName], ["logits"]));
            Field(g, 1, Node("softmax", "Softmax", ["logits"], [OnnxLinearModelWriter.ProbabilitiesOutput], IntAttr("axis", -1)));
            String(g, 2, "earlywarning_embedding_bag");
            Field(g, 5, FloatTensor(EmbeddingsName, [model.Dimension, model.EmbeddingDim], model.Embeddings));
            Field(g, 5, FloatTensor(OutputName, [model.EmbeddingDim, model.Classes], model.Output));
            Field(g, 5, FloatTensor(OnnxLinearModelWriter.BiasName, [model.Classes], model.Bias));
            Field(g, 5, Int64Tensor("unsqueeze_axes", [1]));
            Field(g, 11, ValueInfo(indices, Int32Type, [null, null], ["N", "K"]));
            Field(g, 11, ValueInfo(values, FloatType, [null, null], ["N", "K"]));
            Field(g, 12, ValueInfo(OnnxLinearModelWriter.ProbabilitiesOutput, FloatType, [null, model.Classes], ["N", null]));
        });
        WriteModel(stream, graph, producerVersion, metadata);
    }
}
