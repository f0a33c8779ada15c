using System.Runtime.InteropServices;
using Google.Protobuf;

namespace EarlyWarning.Models.Onnx;

/// <summary>
/// Minimal ONNX protobuf writer (field numbers from onnx.proto): nodes, attributes, initializers, value infos and the
/// model envelope. Shared by every graph this project exports; no ONNX package is needed.
/// </summary>
public static class OnnxProto
{
    /// <summary>TensorProto.DataType FLOAT.</summary>
    public const int FloatType = 1;
    /// <summary>TensorProto.DataType INT32.</summary>
    public const int Int32Type = 6;
    /// <summary>TensorProto.DataType INT64.</summary>
    public const int Int64Type = 7;
    /// <summary>ModelProto.ir_version written.</summary>
    public const long IrVersion = 8;
    /// <summary>Default-domain opset imported.</summary>
    public const long Opset = 13;

    private const int AttrInt = 2;

    /// <summary>A NodeProto.</summary>
    public static byte[] Node(string name, string op, string[] inputs, string[] outputs, params byte[][] attributes) => Message(o =>
    {
        foreach (var i in inputs) String(o, 1, i);
        foreach (var x in outputs) String(o, 2, x);
        String(o, 3, name);
        String(o, 4, op);
        foreach (var a in attributes) Field(o, 5, a);
    });

    /// <summary>An integer AttributeProto.</summary>
    public static byte[] IntAttr(string name, long value) => Message(o =>
    {
        String(o, 1, name);
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(value);
        o.WriteTag(20, WireFormat.WireType.Varint); o.WriteInt32(AttrInt);
    });

    /// <summary>A float initializer stored as little-endian raw_data.</summary>
    public static byte[] FloatTensor(string name, long[] dims, ReadOnlySpan<float> data)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("raw_data is little-endian");
        var bytes = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        return Message(o =>
        {
            foreach (var d in dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(FloatType);
            String(o, 8, name);
            o.WriteTag(9, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(bytes);
        });
    }

    /// <summary>A one-dimensional int64 initializer.</summary>
    public static byte[] Int64Tensor(string name, long[] data) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(data.Length);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(Int64Type);
        foreach (var v in data) { o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt64(v); }
        String(o, 8, name);
    });

    /// <summary>A ValueInfoProto for a tensor; a null dimension value is symbolic (its name from <paramref name="dimParams"/>).</summary>
    public static byte[] ValueInfo(string name, int elemType, long?[] dimValues, string?[] dimParams) => Message(o =>
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

    /// <summary>Writes a ModelProto holding <paramref name="graph"/> (a GraphProto's bytes).</summary>
    public static void WriteModel(Stream stream, byte[] graph, string producerVersion, IReadOnlyDictionary<string, string>? metadata)
    {
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

    /// <summary>Serialises one message built by <paramref name="body"/>.</summary>
    public static byte[] Message(Action<CodedOutputStream> body)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms, leaveOpen: true);
        body(o);
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>A length-delimited embedded message field.</summary>
    public static void Field(CodedOutputStream o, int field, byte[] message)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(message));
    }

    /// <summary>A string field.</summary>
    public static void String(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }
}
