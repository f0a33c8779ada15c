using System.Runtime.InteropServices;
using EarlyWarning.Models.Training;
using Google.Protobuf;

namespace EarlyWarning.Models.Onnx;

/// <summary>
/// Writes a <see cref="LinearModel"/> as an ONNX graph (opset 13) with protobuf field numbers from onnx.proto:
/// <c>indices</c> int32 [N,K], <c>values</c> float [N,K] → Gather(W, indices) · Unsqueeze(values, 2) → ReduceSum(axis 1)
/// → Add(B) → Softmax → <c>probabilities</c> float [N,C]. Padding slots use index 0 with value 0.
/// </summary>
public static class OnnxLinearModelWriter
{
    public const string IndicesInput = "indices";
    public const string ValuesInput = "values";
    public const string ProbabilitiesOutput = "probabilities";
    public const string WeightsName = "W";
    public const string BiasName = "B";
    public const long IrVersion = 8;
    public const long Opset = 13;

    // onnx.proto TensorProto.DataType
    private const int Float = 1;
    private const int Int32 = 6;
    private const int Int64 = 7;

    // onnx.proto AttributeProto.AttributeType
    private const int AttrInt = 2;

    /// <summary>Writes the model to <paramref name="path"/>; <paramref name="metadata"/> goes into ModelProto.metadata_props.</summary>
    public static void Write(LinearModel model, string path, string producerVersion, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var fs = File.Create(path);
        Write(model, fs, producerVersion, metadata);
    }

    /// <summary>Writes the model to a stream.</summary>
    public static void Write(LinearModel model, Stream stream, string producerVersion, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var graph = Message(g =>
        {
            Field(g, 1, Node("gather", "Gather", [WeightsName, IndicesInput], ["gathered"], IntAttr("axis", 0)));
            Field(g, 1, Node("unsqueeze", "Unsqueeze", [ValuesInput, "unsqueeze_axes"], ["values3"]));
            Field(g, 1, Node("mul", "Mul", ["gathered", "values3"], ["weighted"]));
            Field(g, 1, Node("reduce", "ReduceSum", ["weighted", "reduce_axes"], ["summed"], IntAttr("keepdims", 0)));
            Field(g, 1, Node("add", "Add", ["summed", BiasName], ["logits"]));
            Field(g, 1, Node("softmax", "Softmax", ["logits"], [ProbabilitiesOutput], IntAttr("axis", -1)));
            String(g, 2, "earlywarning_linear");
            Field(g, 5, FloatTensor(WeightsName, [model.Dimension, model.Classes], model.Weights));
            Field(g, 5, FloatTensor(BiasName, [model.Classes], model.Bias));
            Field(g, 5, Int64Tensor("unsqueeze_axes", [2]));
            Field(g, 5, Int64Tensor("reduce_axes", [1]));
            Field(g, 11, ValueInfo(IndicesInput, Int32, [null, null], ["N", "K"]));
            Field(g, 11, ValueInfo(ValuesInput, Float, [null, null], ["N", "K"]));
            Field(g, 12, ValueInfo(ProbabilitiesOutput, Float, [null, model.Classes], ["N", null]));
        });
        var output = new CodedOutputStream(stream, leaveOpen: true);
        output.WriteTag(1, WireFormat.WireType.Varint); output.WriteInt64(IrVersion);
        String(output, 2, "EarlyWarning");
        String(output, 3, producerVersion);
        Field(output, 7, graph);
        Field(output, 8, Message(o => { String(o, 1, ""); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(Opset); }));
        if (metadata is not null)
            foreach (var (k, v) in metadata)
                Field(output, 14, Message(o => { String(o, 1, k); String(o, 2, v); }));
        output.Flush();
    }

    private static byte[] Node(string name, string op, string[] inputs, string[] outputs, params byte[][] attributes) => Message(o =>
    {
        foreach (var i in inputs) String(o, 1, i);
        foreach (var x in outputs) String(o, 2, x);
        String(o, 3, name);
        String(o, 4, op);
        foreach (var a in attributes) Field(o, 5, a);
    });

    private static byte[] IntAttr(string name, long value) => Message(o =>
    {
        String(o, 1, name);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(value);
        o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(AttrInt);
    });

    private static byte[] FloatTensor(string name, long[] dims, float[] data) => Message(o =>
    {
        foreach (var d in dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(Float);
        String(o, 8, name);
        var bytes = MemoryMarshal.AsBytes(data.AsSpan());
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("raw_data is little-endian");
        o.WriteTag(9, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(bytes));
    });

    private static byte[] Int64Tensor(string name, long[] data) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(data.Length);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(Int64);
        foreach (var v in data) { o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt64(v); }
        String(o, 8, name);
    });

    private static byte[] ValueInfo(string name, int elemType, long?[] dimValues, string?[] dimParams) => Message(o =>
    {
        String(o, 1, name);
        var shape = Message(s =>
        {
            for (var i = 0; i < dimValues.Length; i++)
            {
                var dim = Message(d =>
                {
                    if (dimValues[i] is { } v) { d.WriteTag(1, WireFormat.WireType.Varint); d.WriteInt64(v); }
                    else String(d, 2, dimParams[i] ?? "?");
                });
                Field(s, 1, dim);
            }
        });
        var tensorType = Message(t => { t.WriteTag(1, WireFormat.WireType.Varint); t.WriteInt32(elemType); Field(t, 2, shape); });
        Field(o, 2, Message(t => Field(t, 1, tensorType)));
    });

    private static byte[] Message(Action<CodedOutputStream> body)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms, leaveOpen: true);
        body(o);
        o.Flush();
        return ms.ToArray();
    }

    private static void Field(CodedOutputStream o, int field, byte[] message)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(message));
    }

    private static void String(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }
}
