using System.Runtime.InteropServices;
using EarlyWarning.Models.Training;
using Google.Protobuf;

namespace EarlyWarning.Models.Onnx;

/// <summary>
/// Reads the W and B initializers back from an ONNX file written by <see cref="OnnxLinearModelWriter"/> (or E, W2 and B
/// from <see cref="OnnxEmbeddingBagWriter"/>, collapsed to W = E·W2), so explanations use exactly the weights that
/// ONNX Runtime serves. Returns null for graphs without them.
/// </summary>
public static class OnnxLinearModelReader
{
    public static LinearModel? TryRead(string path)
    {
        using var fs = File.OpenRead(path);
        var input = new CodedInputStream(fs);
        (long[] Dims, byte[] Raw)? w = null, b = null, e = null, w2 = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 7) { input.SkipLastField(); continue; }
            var graph = new CodedInputStream(input.ReadBytes().ToByteArray());
            uint gt;
            while ((gt = graph.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(gt) != 5) { graph.SkipLastField(); continue; }
                var t = ReadTensor(graph.ReadBytes());
                if (t.Name == OnnxLinearModelWriter.WeightsName && t.DataType == 1) w = (t.Dims, t.Raw);
                else if (t.Name == OnnxLinearModelWriter.BiasName && t.DataType == 1) b = (t.Dims, t.Raw);
                else if (t.Name == OnnxEmbeddingBagWriter.EmbeddingsName && t.DataType == 1) e = (t.Dims, t.Raw);
                else if (t.Name == OnnxEmbeddingBagWriter.OutputName && t.DataType == 1) w2 = (t.Dims, t.Raw);
            }
        }
        if (w is null && e is not null && w2 is not null && b is not null && e.Value.Dims.Length == 2 && w2.Value.Dims.Length == 2)
        {
            try
            {
                var bag = new EmbeddingBagModel((int)e.Value.Dims[0], (int)e.Value.Dims[1], (int)w2.Value.Dims[1],
                MemoryMarshal.Cast<byte, float>(e.Value.Raw).ToArray(), MemoryMarshal.Cast<byte, float>(w2.Value.Raw).ToArray(),
                MemoryMarshal.Cast<byte, float>(b.Value.Raw).ToArray());
                return bag.ToLinear();
            }
            catch (ArgumentException) { return null; } // inconsistent shapes: no explanations, serving still runs
        }
        if (w is null || b is null || w.Value.Dims.Length != 2 || b.Value.Dims.Length != 1) return null;
        var dim = (int)w.Value.Dims[0];
        var classes = (int)w.Value.Dims[1];
        var weights = MemoryMarshal.Cast<byte, float>(w.Value.Raw).ToArray();
        var bias = MemoryMarshal.Cast<byte, float>(b.Value.Raw).ToArray();
        if (weights.Length != dim * classes || bias.Length != classes) return null;
        return new LinearModel(dim, classes, weights, bias);
    }

    private static (string Name, int DataType, long[] Dims, byte[] Raw) ReadTensor(ByteString bytes)
    {
        var s = bytes.CreateCodedInput();
        var name = "";
        var type = 0;
        var dims = new List<long>();
        var raw = Array.Empty<byte>();
        uint tag;
        while ((tag = s.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint: dims.Add(s.ReadInt64()); break;
                case 1:
                    var packed = s.ReadBytes().CreateCodedInput();
                    while (!packed.IsAtEnd) dims.Add(packed.ReadInt64());
                    break;
                case 2: type = s.ReadInt32(); break;
                case 8: name = s.ReadString(); break;
                case 9: raw = s.ReadBytes().ToByteArray(); break;
                default: s.SkipLastField(); break;
            }
        }
        return (name, type, dims.ToArray(), raw);
    }
}
