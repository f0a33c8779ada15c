using System.Buffers;
using System.Text.Json;
using EarlyWarning.Core.Privacy;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// Rewrites a post's original JSON before storage: account ids, handles, mentions and the reporter of a partner report
/// (<c>reported_by</c>) become pseudonyms, and the <c>geo</c> object is coarsened to country and region (DESIGN.md safeguards). Unknown fields are kept.
/// </summary>
/// <remarks>
/// Hot path of the decode stage (every post): names and values the reader did not have to unescape are copied as
/// UTF-8 spans (the writer escapes them exactly as it would the decoded string), property names are classified
/// without allocating, and the writer and its buffer are reused per thread, so the only allocations per post are
/// the pseudonyms and the returned array.
/// </remarks>
public static class RawSanitizer
{
    /// <summary>
    /// Never throws: a document the rewriter cannot read back (e.g. a lone surrogate in a field the decoder skipped)
    /// is replaced by a placeholder rather than stored unsanitised; the post's decoded fields are stored anyway.
    /// </summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, Pseudonymizer pseudonymizer, bool coarsenGeo = true)
    {
        ArgumentNullException.ThrowIfNull(pseudonymizer);
        return Rewrite(json, pseudonymizer.Pseudonymize, coarsenGeo);
    }

    /// <summary>
    /// As <see cref="Rewrite(ReadOnlySpan{byte}, Pseudonymizer, bool)"/> with the pseudonym function given (the
    /// decode stage passes a per-post <see cref="PseudonymMemo"/>, so ids it needs again are not hashed twice).
    /// </summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, Func<string, string> pseudonymize, bool coarsenGeo = true) =>
        Rewrite(json, pseudonymize, null, coarsenGeo);

    /// <summary>
    /// As <see cref="Rewrite(ReadOnlySpan{byte}, Func{string, string}, bool)"/> with the post's memo: an id the memo
    /// already holds (the decode stage pseudonymises the decoded fields first) is matched in the JSON as it stands,
    /// without reading it into a string; any other id is pseudonymised through the memo.
    /// </summary>
    public static byte[] Rewrite(ReadOnlySpan<byte> json, PseudonymMemo memo, bool coarsenGeo = true)
    {
        ArgumentNullException.ThrowIfNull(memo);
        return Rewrite(json, memo.Pseudonymize, memo, coarsenGeo);
    }

    private static byte[] Rewrite(ReadOnlySpan<byte> json, Func<string, string> pseudonymize, PseudonymMemo? memo, bool coarsenGeo)
    {
        ArgumentNullException.ThrowIfNull(pseudonymize);
        if (json.StartsWith("\uFEFF"u8)) json = json[3..];
        var state = State.Current;
        try { return RewriteCore(json, pseudonymize, memo, coarsenGeo, state); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return Placeholder.ToArray();
        }
        finally { state.Release(); }
    }

    private static ReadOnlySpan<byte> Placeholder => """{"raw_unavailable":"the original document could not be sanitised"}"""u8;

    /// <summary>Whether <paramref name="json"/> is the placeholder stored for a document that could not be sanitised.</summary>
    public static bool IsPlaceholder(ReadOnlySpan<byte> json) => json.SequenceEqual(Placeholder);

    // What a property name or container is, as far as the rewrite cares.
    private enum Name : byte { Other, None, Geo, Author, Mentions, Id, Handle, ReportedBy, Country, Region }

    private static Name Classify(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8) ? Name.Id
        : reader.ValueTextEquals("handle"u8) ? Name.Handle
        : reader.ValueTextEquals("geo"u8) ? Name.Geo
        : reader.ValueTextEquals("author"u8) ? Name.Author
        : reader.ValueTextEquals("mentions"u8) ? Name.Mentions
        : reader.ValueTextEquals("reported_by"u8) ? Name.ReportedBy
        : reader.ValueTextEquals("country"u8) ? Name.Country
        : reader.ValueTextEquals("region"u8) ? Name.Region
        : Name.Other;

    private static byte[] RewriteCore(ReadOnlySpan<byte> json, Func<string, string> pseudonymize, PseudonymMemo? memo, bool coarsenGeo, State state)
    {
        var writer = state.Writer;
        var reader = new Utf8JsonReader(json);
        // The name each open container was opened under (Name.None for array elements and the root), by depth;
        // the reader refuses documents nested deeper than its maximum depth (64), so 65 entries are enough.
        Span<Name> path = stackalloc Name[65];
        var depth = 0;
        var pending = Name.None;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    pending = Classify(ref reader);
                    if (coarsenGeo && depth == 2 && path[1] == Name.Geo && pending is not (Name.Country or Name.Region))
                    {
                        reader.Read();
                        reader.Skip();
                        pending = Name.None;
                        continue;
                    }
                    if (CopyAsIs(ref reader)) writer.WritePropertyName(reader.ValueSpan);
                    else writer.WritePropertyName(reader.GetString()!);
                    break;
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    path[depth++] = pending;
                    pending = Name.None;
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    path[depth++] = pending;
                    pending = Name.None;
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    depth--;
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    depth--;
                    break;
                case JsonTokenType.String:
                    if (IsIdentifier(path, depth, pending))
                        writer.WriteStringValue(memo is not null && memo.TryFind(ref reader, out var known) ? known : pseudonymize(reader.GetString()!));
                    else if (CopyAsIs(ref reader)) writer.WriteStringValue(reader.ValueSpan);
                    else writer.WriteStringValue(reader.GetString());
                    pending = Name.None;
                    break;
                default:
                    // Numbers, true, false, null: their token text is already valid JSON.
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    pending = Name.None;
                    break;
            }
        }
        writer.Flush();
        return state.Output.WrittenSpan.ToArray();
    }

    // A name or string value can go to the writer as its UTF-8 bytes when the reader did not unescape anything and the
    // bytes are valid UTF-8; otherwise it goes through GetString (which throws on what the old rewriter refused, and
    // the document becomes the placeholder, as before; the writer alone would substitute U+FFFD).
    private static bool CopyAsIs(ref Utf8JsonReader reader) =>
        !reader.ValueIsEscaped && !reader.HasValueSequence && System.Text.Unicode.Utf8.IsValid(reader.ValueSpan);

    private static bool IsIdentifier(ReadOnlySpan<Name> path, int depth, Name property)
    {
        if (depth == 2 && path[1] == Name.Author && property is Name.Id or Name.Handle) return true;
        if (depth == 2 && path[1] == Name.Mentions && property == Name.None) return true;
        // A partner report names its reporter (an account of the partner): pseudonymised like the author.
        if (depth == 1 && property == Name.ReportedBy) return true;
        return false;
    }

    /// <summary>The writer and its buffer, reused by one thread (a nested call on the same thread gets fresh ones).</summary>
    private sealed class State
    {
        private const int KeepBytes = 1 << 16;

        [ThreadStatic] private static State? t_state;

        private bool _inUse;
        public ArrayBufferWriter<byte> Output { get; private set; } = new(4096);
        public Utf8JsonWriter Writer { get; }

        private State() =>
            Writer = new Utf8JsonWriter(Output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        public static State Current
        {
            get
            {
                var s = t_state ??= new State();
                if (s._inUse) s = new State();
                s._inUse = true;
                return s;
            }
        }

        public void Release()
        {
            // A rare huge document does not keep its buffer alive for the rest of the thread's life.
            if (Output.Capacity > KeepBytes) Output = new ArrayBufferWriter<byte>(4096);
            else Output.ResetWrittenCount();
            Writer.Reset(Output);
            _inUse = false;
        }
    }
}

/// <summary>
/// Pseudonyms computed for one post, so an id needed twice (in the rewritten JSON and in the decoded fields) is
/// hashed once. Holds raw ids only until <see cref="Clear"/> (the decode stage clears it after every post).
/// Not thread-safe: one per decode task.
/// </summary>
public sealed class PseudonymMemo
{
    private readonly Func<string, string> _hash;
    private readonly List<(string Raw, string Pseudonym)> _pairs = new(8);

    public PseudonymMemo(Pseudonymizer pseudonymizer) : this((pseudonymizer ?? throw new ArgumentNullException(nameof(pseudonymizer))).Pseudonymize) { }

    /// <summary>With the pseudonym function given (tests count its calls).</summary>
    public PseudonymMemo(Func<string, string> pseudonymize)
    {
        ArgumentNullException.ThrowIfNull(pseudonymize);
        _hash = pseudonymize;
        Pseudonymize = Get;
    }

    /// <summary><see cref="Get"/> as a delegate (allocated once).</summary>
    public Func<string, string> Pseudonymize { get; }

    /// <summary>The pseudonym of <paramref name="id"/>, computed once per post.</summary>
    public string Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (var (raw, pseudonym) in _pairs)
            if (string.Equals(raw, id, StringComparison.Ordinal)) return pseudonym;
        var p = _hash(id);
        // A post names a handful of accounts; a document with hundreds of mentions is not worth a bigger memo.
        if (_pairs.Count < 32) _pairs.Add((id, p));
        return p;
    }

    /// <summary>
    /// The pseudonym of the string value <paramref name="reader"/> is on, when the memo already holds that id (compared
    /// as the JSON has it, escapes resolved, without making a string).
    /// </summary>
    public bool TryFind(ref Utf8JsonReader reader, out string pseudonym)
    {
        foreach (var (raw, p) in _pairs)
            if (reader.ValueTextEquals(raw))
            {
                pseudonym = p;
                return true;
            }
        pseudonym = null!;
        return false;
    }

    /// <summary>Forgets every raw id.</summary>
    public void Clear() => _pairs.Clear();
}
