using System.Buffers;
using System.Text.Json;
using EarlyWarning.Core.Privacy;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// Rewrites a post's original JSON before storage: account ids, handles, mentions and the reporter of a partner report
/// (<c>reported_by</c>) become pseudonyms, and the <c>geo</c> object is coarsened to country and region (DESIGN.md safeguards). Unknown fields are kept.
/// </summary>
public static class RawSanitizer
{
    /// <summary>
    /// Never throws: a document the rewriter cannot read back (e.g. a lone surrogate in a field the decoder skipped)
    /// is replaced by a placeholder rather than stored unsanitised; the post's decoded fields are stored anyway.
    /// </summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, Pseudonymizer pseudonymizer, bool coarsenGeo = true)
    {
        if (json.StartsWith("\uFEFF"u8)) json = json[3..];
        try { return RewriteCore(json, pseudonymizer, coarsenGeo); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return """{"raw_unavailable":"the original document could not be sanitised"}"""u8.ToArray();
        }
    }

    private static byte[] RewriteCore(ReadOnlySpan<byte> json, Pseudonymizer pseudonymizer, bool coarsenGeo)
    {
        var output = new ArrayBufferWriter<byte>(json.Length + 64);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var reader = new Utf8JsonReader(json);
            // Path of property names from the root, enough to know where we are (author.id, mentions[], geo.*).
            var path = new Stack<string>();
            string? pending = null;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pending = reader.GetString();
                        var depth = path.Count;
                        if (coarsenGeo && depth == 2 && path.Peek() == "geo" && pending is not ("country" or "region"))
                        {
                            reader.Read();
                            reader.Skip();
                            pending = null;
                            continue;
                        }
                        writer.WritePropertyName(pending!);
                        break;
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        path.Push(pending ?? (path.Count == 0 ? "$" : "[]"));
                        pending = null;
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        path.Push(pending ?? "[]");
                        pending = null;
                        break;
                    case JsonTokenType.EndObject:
                        writer.WriteEndObject();
                        path.Pop();
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        path.Pop();
                        break;
                    case JsonTokenType.String:
                        var s = reader.GetString()!;
                        if (IsIdentifier(path, pending)) s = pseudonymizer.Pseudonymize(s);
                        writer.WriteStringValue(s);
                        pending = null;
                        break;
                    default:
                        // Numbers, true, false, null: their token text is already valid JSON.
                        writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        pending = null;
                        break;
                }
            }
        }
        return output.WrittenSpan.ToArray();
    }

    private static bool IsIdentifier(Stack<string> path, string? property)
    {
        if (path.Count == 2 && path.Peek() == "author" && property is "id" or "handle") return true;
        if (path.Count == 2 && path.Peek() == "mentions" && property is null) return true;
        // A partner report names its reporter (an account of the partner): pseudonymised like the author.
        if (path.Count == 1 && property is "reported_by") return true;
        return false;
    }
}
