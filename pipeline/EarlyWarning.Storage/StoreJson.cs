using System.Text.Json;
using System.Text.Json.Serialization;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Storage;

/// <summary>
/// JSON for the structured columns/fields every store keeps (evidence, explanations, terms, scores): snake_case,
/// source-generated so that serialising on the write path costs no reflection.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(Evidence))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(float[]))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;

/// <summary>Serialises and parses the JSON columns; a damaged stored value reads back as empty rather than throwing.</summary>
internal static class StoreJson
{
    public static string Serialize(Evidence evidence) => JsonSerializer.Serialize(evidence, StoreJsonContext.Default.Evidence);

    public static string Serialize(List<string> list) => JsonSerializer.Serialize(list, StoreJsonContext.Default.ListString);

    public static string Serialize(float[] scores) => JsonSerializer.Serialize(scores, StoreJsonContext.Default.SingleArray);

    public static Evidence ParseEvidence(string? json)
    {
        if (string.IsNullOrEmpty(json)) return new Evidence();
        try { return JsonSerializer.Deserialize(json, StoreJsonContext.Default.Evidence) ?? new Evidence(); }
        catch (JsonException) { return new Evidence(); }
    }

    public static List<string> ParseList(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try { return JsonSerializer.Deserialize(json, StoreJsonContext.Default.ListString) ?? []; }
        catch (JsonException) { return []; }
    }

    public static float[]? ParseScores(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonSerializer.Deserialize(json, StoreJsonContext.Default.SingleArray); }
        catch (JsonException) { return null; }
    }
}
