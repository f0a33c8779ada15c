using System.Buffers;
using System.Text;
using System.Text.Json;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Text.Tests;

namespace EarlyWarning.App.Tests.Pipeline;

/// <summary>
/// The decode stage's JSON rewrite copies names and values as UTF-8 spans and hashes each id of a post once; its
/// output must be byte-for-byte what the string-based rewriter produced, on the simulator stream, on documents
/// carrying real multilingual text from ../shared/data (escaped and unescaped) and on awkward documents.
/// </summary>
public sealed class RawSanitizerEquivalenceTests
{
    private static readonly Pseudonymizer P = new(Enumerable.Repeat((byte)9, 32).ToArray());

    private static IEnumerable<byte[]> Documents()
    {
        foreach (var p in new Simulator("election-day", 3, 4_000).Generate()) yield return p.Json;
        var i = 0;
        foreach (var text in Corpus.Multilingual(60))
        {
            i++;
            foreach (var escaped in new[] { false, true })
            {
                var buffer = new ArrayBufferWriter<byte>();
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
                       { Encoder = escaped ? System.Text.Encodings.Web.JavaScriptEncoder.Default : System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    w.WriteStartObject();
                    w.WriteString("id", "t:" + i);
                    w.WriteString("created_at", "2026-11-08T06:00:00Z");
                    w.WriteStartObject("author");
                    w.WriteString("id", "u:" + (i % 17));
                    w.WriteString("handle", text.Length > 12 ? text[..12] : text);
                    w.WriteNumber("followers", i);
                    w.WriteEndObject();
                    w.WriteString("text", text);
                    w.WriteStartArray("mentions");
                    w.WriteStringValue("u:" + (i % 17));
                    w.WriteStringValue("u:" + (i % 5));
                    w.WriteEndArray();
                    w.WriteStartObject("geo");
                    w.WriteString("country", "MM");
                    w.WriteString("region", text.Length > 5 ? text[..5] : text);
                    w.WriteNumber("lat", 16.8);
                    w.WriteEndObject();
                    w.WriteString(text.Length > 8 ? text[..8] : "k" + i, "v");
                    w.WriteEndObject();
                }
                yield return buffer.WrittenSpan.ToArray();
            }
        }
        string[] awkward =
        [
            "{\"id\":\"t:1\",\"\\u0061uthor\":{\"\\u0069d\":\"u:1\",\"handle\":\"a\\\"b\\\\c\"},\"mentions\":[\"u:2\",{\"id\":\"u:3\"},[\"u:4\"],\"u:5\"]}",
            "{\"text\":\"emoji \ud83d\ude00 \\ud83d\\ude00 and \u2028 line sep \\u0007 bell\",\"n\":-1.5e+10,\"b\":false,\"z\":null}",
            "{\"geo\":{\"country\":\"KE\",\"point\":{\"lat\":1,\"lon\":[2,3]},\"region\":\"Nairobi\",\"\\u0063ountry\":\"X\"},\"x\":{\"geo\":{\"lat\":1}}}",
            "{\"author\":[\"u:1\",\"u:2\"],\"mentions\":{\"id\":\"u:3\",\"a\":\"u:4\"},\"reported_by\":\"ngo-1\",\"r\":{\"reported_by\":\"keep\"}}",
            "[{\"author\":{\"id\":\"u:1\"}},\"reported_by\",{\"mentions\":[\"u:9\"]}]",
            "{\"a\":{\"author\":{\"id\":\"deep\"}},\"author\":{\"id\":\"u:1\",\"meta\":{\"id\":\"nested\"},\"handle\":\"h\"},\"\":\"empty name\",\"é\":\"ü\"}",
            "{\"author\":{\"id\":\"u:1\"},\"junk\":\"\\ud800\"}",
            "{\"author\":{\"id\":\"u:1\"},\"\\udc00\":1}",
            "{\"author\":{\"id\":\"u:1\"}",
            "\uFEFF{\"author\":{\"id\":\"u:1\",\"handle\":\"u:1\"},\"mentions\":[\"u:1\",\"u:1\"]}",
            "{}",
            "[]",
            "\"just a string\"",
            string.Concat(Enumerable.Repeat("[", 40)) + "{\"author\":{\"id\":\"u:1\"}}" + string.Concat(Enumerable.Repeat("]", 40)),
            string.Concat(Enumerable.Repeat("[", 70)) + string.Concat(Enumerable.Repeat("]", 70)),
            "{\"text\":\"" + new string('x', 100_000) + "\",\"author\":{\"id\":\"u:big\"}}",
        ];
        foreach (var a in awkward) yield return Encoding.UTF8.GetBytes(a);
        yield return [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]; // invalid UTF-8 in a value
    }

    [Fact]
    public void Ids_already_in_the_memo_are_not_hashed_again_even_when_escaped_in_the_json()
    {
        var calls = new List<string>();
        var memo = new PseudonymMemo(id => { calls.Add(id); return P.Pseudonymize(id); });
        var doc = Encoding.UTF8.GetBytes("""{"id":"p1","author":{"id":"u\u003a7","handle":"amina"},"mentions":["u:8","u:9"],"text":"x"}""");
        foreach (var id in new[] { "u:7", "amina", "u:8" }) memo.Get(id);
        Assert.Equal(3, calls.Count);
        var rewritten = RawSanitizer.Rewrite(doc, memo);
        Assert.Equal(["u:7", "amina", "u:8", "u:9"], calls); // only the id the memo did not hold
        Assert.Equal(Reference.Rewrite(doc, P), rewritten);
        var text = Encoding.UTF8.GetString(rewritten);
        Assert.DoesNotContain("amina", text, StringComparison.Ordinal);
        Assert.Contains(P.Pseudonymize("u:7"), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewrite_is_byte_identical_to_the_string_based_rewriter_and_the_memo_gives_the_same_pseudonyms()
    {
        var memo = new PseudonymMemo(P);
        var count = 0;
        foreach (var doc in Documents())
        {
            count++;
            var expected = Reference.Rewrite(doc, P);
            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(RawSanitizer.Rewrite(doc, P)));
            Assert.Equal(expected, RawSanitizer.Rewrite(doc, memo.Pseudonymize));
            // With ids already in the memo (as the decode stage pseudonymises the decoded fields first): found in the
            // JSON as it stands, same bytes.
            memo.Clear();
            foreach (var id in new[] { "u:1", "u:2", "ngo-1", "u:big" }) memo.Get(id);
            Assert.Equal(expected, RawSanitizer.Rewrite(doc, memo));
            Assert.Equal(expected, RawSanitizer.Rewrite(doc, P, coarsenGeo: true));
            Assert.Equal(Reference.Rewrite(doc, P, coarsenGeo: false), RawSanitizer.Rewrite(doc, P, coarsenGeo: false));
            foreach (var id in new[] { "u:1", "u:2", "ngo-1" }) Assert.Equal(P.Pseudonymize(id), memo.Get(id));
            memo.Clear();
        }
        Assert.True(count > 4_500);
    }

    [Fact]
    public void The_memo_hashes_each_id_of_a_post_once_and_forgets_it_on_clear()
    {
        var hashed = new List<string>();
        var memo = new PseudonymMemo(id => { hashed.Add(id); return P.Pseudonymize(id); });
        var doc = Encoding.UTF8.GetBytes("{\"author\":{\"id\":\"u:1\",\"handle\":\"h\"},\"mentions\":[\"u:1\",\"u:2\"]}");
        Assert.Equal(Reference.Rewrite(doc, P), RawSanitizer.Rewrite(doc, memo.Pseudonymize));
        Assert.Equal(["u:1", "h", "u:2"], hashed);
        // The decoded fields of the same post reuse the pseudonyms.
        Assert.Equal(P.Pseudonymize("u:1"), memo.Get("u:1"));
        Assert.Equal(P.Pseudonymize("h"), memo.Get("h"));
        Assert.Equal(3, hashed.Count);
        memo.Clear();
        Assert.Equal(P.Pseudonymize("u:1"), memo.Get("u:1"));
        Assert.Equal(4, hashed.Count);
    }

    /// <summary>The rewriter as it was at commit 16d34fe (string per name and value, one HMAC per id occurrence).</summary>
    private static class Reference
    {
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
}
