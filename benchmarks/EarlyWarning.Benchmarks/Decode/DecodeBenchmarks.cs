using System.Text.Json;
using BenchmarkDotNet.Attributes;
using EarlyWarning.Benchmarks.Inputs;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Benchmarks.Decode;

/// <summary>
/// Core's strict decoder (UTF-8 JSON → <see cref="Post"/> or a dead-letter reason) over simulator messages in memory,
/// against <c>JsonDocument.Parse</c> of the same bytes (parse only,
/// no object built). Per message.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortInProcessConfig))]
public class DecodeBenchmarks
{
    public const int Messages = 10_000;
    private byte[][] _messages = [];
    private readonly PostDecoder _decoder = new();

    [GlobalSetup]
    public void Setup()
    {
        _messages = SimulatedStream.Messages(Messages);
        Console.WriteLine($"// {_messages.Length} messages, {_messages.Sum(m => (long)m.Length) / _messages.Length} B/message");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages, Description = "JsonDocument.Parse (baseline)")]
    public int JsonDocumentParse()
    {
        var n = 0;
        foreach (var m in _messages)
        {
            using var doc = JsonDocument.Parse(m);
            n += doc.RootElement.ValueKind == JsonValueKind.Object ? 1 : 0;
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = Messages, Description = "PostDecoder.TryDecode")]
    public int PostDecoderDecode()
    {
        var n = 0;
        foreach (var m in _messages)
            if (_decoder.TryDecode(m, out _, out _)) n++;
        return n;
    }
}
