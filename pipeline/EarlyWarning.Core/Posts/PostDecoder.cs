using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace EarlyWarning.Core.Posts;

/// <summary>
/// Strict decoder from UTF-8 JSON bytes to <see cref="Post"/>. It never throws on bad input: it reports a
/// dead-letter reason code instead (DESIGN.md, "Limits and dead letters").
/// </summary>
public sealed class PostDecoder
{
    /// <summary>Default size limit of one message.</summary>
    public const int DefaultMaxBytes = 64 * 1024;

    private readonly int _maxBytes;

    public PostDecoder(int maxBytes = DefaultMaxBytes) => _maxBytes = maxBytes;

    /// <summary>Decodes one message. Returns false with a reason code when the message must be dead-lettered.</summary>
    public bool TryDecode(ReadOnlyMemory<byte> message, out Post? post, out string? reason)
    {
        post = null;
        var span = message.Span;
        if (span.Length > _maxBytes) { reason = DeadLetterReasons.TooLarge; return false; }
        if (!Utf8.IsValid(span)) { reason = DeadLetterReasons.InvalidUtf8; return false; }
        // A UTF-8 byte-order mark is tolerated; JSON does not allow it, many exporters write it.
        if (span.StartsWith("\uFEFF"u8)) span = span[3..];
        try
        {
            reason = Parse(span, out var fields);
            if (reason is not null) return false;
            reason = Validate(ref fields);
            if (reason is not null) return false;
            post = fields.ToPost(message);
            return true;
        }
        catch (JsonException)
        {
            reason = DeadLetterReasons.InvalidJson;
            return false;
        }
        catch (InvalidOperationException)
        {
            // A string escape that is valid JSON syntax but not Unicode text (a lone surrogate such as "\ud800").
            reason = DeadLetterReasons.InvalidJson;
            return false;
        }
    }

    private struct Fields
    {
        public string? Id, Platform, CreatedAtText, AuthorId, Handle, Text, Lang, Country, Region, ReplyTo, RepostOf, QuoteOf, ReportedBy;
        public int Followers;
        public DateTimeOffset CreatedAt;
        public List<string>? Mentions, Hashtags, Urls;
        public List<MediaItem>? Media;

        public readonly Post ToPost(ReadOnlyMemory<byte> raw) => new()
        {
            Id = Id!,
            Platform = Platform,
            CreatedAt = CreatedAt,
            AuthorId = AuthorId!,
            AuthorHandle = Handle,
            AuthorFollowers = Followers,
            Text = Text ?? string.Empty,
            Lang = Lang,
            Country = Country,
            Region = Region,
            ReplyTo = ReplyTo,
            RepostOf = RepostOf,
            QuoteOf = QuoteOf,
            Mentions = (IReadOnlyList<string>?)Mentions ?? [],
            Hashtags = (IReadOnlyList<string>?)Hashtags ?? [],
            Urls = (IReadOnlyList<string>?)Urls ?? [],
            Media = (IReadOnlyList<MediaItem>?)Media ?? [],
            ReportedBy = ReportedBy,
            Raw = raw,
        };
    }

    private static string? Validate(ref Fields f)
    {
        if (string.IsNullOrEmpty(f.Id)) return DeadLetterReasons.MissingField("id");
        if (f.CreatedAtText is null) return DeadLetterReasons.MissingField("created_at");
        if (string.IsNullOrEmpty(f.AuthorId)) return DeadLetterReasons.MissingField("author.id");
        if (f.Text is null && (f.Media is null || f.Media.Count == 0)) return DeadLetterReasons.MissingField("text");
        if (!DateTimeOffset.TryParse(f.CreatedAtText, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out f.CreatedAt)
            || f.CreatedAtText.Length < 10)
            return DeadLetterReasons.BadTimestamp;
        if (f.Followers < 0) return DeadLetterReasons.BadField("author.followers");
        return null;
    }

    private static string? Parse(ReadOnlySpan<byte> json, out Fields f)
    {
        f = default;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 32 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return DeadLetterReasons.InvalidJson;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.ValueTextEquals("id"u8)) { if (!ReadString(ref reader, out f.Id)) return DeadLetterReasons.BadField("id"); }
            else if (reader.ValueTextEquals("platform"u8)) { if (!ReadSharedString(ref reader, out f.Platform)) return DeadLetterReasons.BadField("platform"); }
            else if (reader.ValueTextEquals("created_at"u8)) { if (!ReadString(ref reader, out f.CreatedAtText)) return DeadLetterReasons.BadTimestamp; }
            else if (reader.ValueTextEquals("text"u8)) { if (!ReadString(ref reader, out f.Text)) return DeadLetterReasons.BadField("text"); }
            else if (reader.ValueTextEquals("lang"u8)) { if (!ReadSharedString(ref reader, out f.Lang)) return DeadLetterReasons.BadField("lang"); }
            else if (reader.ValueTextEquals("reply_to"u8)) { if (!ReadString(ref reader, out f.ReplyTo)) return DeadLetterReasons.BadField("reply_to"); }
            else if (reader.ValueTextEquals("repost_of"u8)) { if (!ReadString(ref reader, out f.RepostOf)) return DeadLetterReasons.BadField("repost_of"); }
            else if (reader.ValueTextEquals("quote_of"u8)) { if (!ReadString(ref reader, out f.QuoteOf)) return DeadLetterReasons.BadField("quote_of"); }
            else if (reader.ValueTextEquals("reported_by"u8)) { if (!ReadString(ref reader, out f.ReportedBy)) return DeadLetterReasons.BadField("reported_by"); }
            else if (reader.ValueTextEquals("mentions"u8)) { if (!ReadStrings(ref reader, out f.Mentions)) return DeadLetterReasons.BadField("mentions"); }
            else if (reader.ValueTextEquals("hashtags"u8)) { if (!ReadStrings(ref reader, out f.Hashtags)) return DeadLetterReasons.BadField("hashtags"); }
            else if (reader.ValueTextEquals("urls"u8)) { if (!ReadStrings(ref reader, out f.Urls)) return DeadLetterReasons.BadField("urls"); }
            else if (reader.ValueTextEquals("author"u8))
            {
                var r = ParseAuthor(ref reader, ref f);
                if (r is not null) return r;
            }
            else if (reader.ValueTextEquals("geo"u8))
            {
                var r = ParseGeo(ref reader, ref f);
                if (r is not null) return r;
            }
            else if (reader.ValueTextEquals("media"u8))
            {
                var r = ParseMedia(ref reader, ref f);
                if (r is not null) return r;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        // Anything after the top-level object is not one JSON value.
        if (reader.Read()) return DeadLetterReasons.InvalidJson;
        return null;
    }

    private static string? ParseAuthor(ref Utf8JsonReader reader, ref Fields f)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return DeadLetterReasons.BadField("author"); }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("id"u8)) { if (!ReadString(ref reader, out f.AuthorId)) return DeadLetterReasons.BadField("author.id"); }
            else if (reader.ValueTextEquals("handle"u8)) { if (!ReadString(ref reader, out f.Handle)) return DeadLetterReasons.BadField("author.handle"); }
            else if (reader.ValueTextEquals("followers"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var n) || n < 0)
                    return DeadLetterReasons.BadField("author.followers");
                f.Followers = (int)Math.Min(n, int.MaxValue);
            }
            else { reader.Read(); reader.Skip(); }
        }
        return null;
    }

    private static string? ParseGeo(ref Utf8JsonReader reader, ref Fields f)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return DeadLetterReasons.BadField("geo"); }
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("country"u8)) { if (!ReadSharedString(ref reader, out f.Country)) return DeadLetterReasons.BadField("geo.country"); }
            else if (reader.ValueTextEquals("region"u8)) { if (!ReadSharedString(ref reader, out f.Region)) return DeadLetterReasons.BadField("geo.region"); }
            else { reader.Read(); reader.Skip(); }
        }
        return null;
    }

    private static string? ParseMedia(ref Utf8JsonReader reader, ref Fields f)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); return DeadLetterReasons.BadField("media"); }
        // Made at the first item: an empty array (most posts) leaves the field null, which the post reads as empty.
        List<MediaItem>? list = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) return DeadLetterReasons.BadField("media");
            string? type = null, pdq = null, md5 = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.ValueTextEquals("type"u8)) { if (!ReadString(ref reader, out type)) return DeadLetterReasons.BadField("media.type"); }
                else if (reader.ValueTextEquals("pdq"u8)) { if (!ReadString(ref reader, out pdq)) return DeadLetterReasons.BadField("media.pdq"); }
                else if (reader.ValueTextEquals("md5"u8)) { if (!ReadString(ref reader, out md5)) return DeadLetterReasons.BadField("media.md5"); }
                else { reader.Read(); reader.Skip(); }
            }
            (list ??= []).Add(new MediaItem(type ?? "unknown", pdq, md5));
        }
        f.Media = list;
        return null;
    }

    /// <summary>Reads a string or null value; false when the value has another type.</summary>
    private static bool ReadString(ref Utf8JsonReader reader, out string? value)
    {
        reader.Read();
        value = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.String: value = reader.GetString(); return true;
            case JsonTokenType.Null: return true;
            default: reader.Skip(); return false;
        }
    }

    /// <summary>
    /// <see cref="ReadString"/> for the fields whose few values repeat from post to post (platform, language, country,
    /// region): each distinct value is one string, shared by every post that names it (they live on in the analysis
    /// windows), instead of a new copy per post.
    /// </summary>
    private static bool ReadSharedString(ref Utf8JsonReader reader, out string? value)
    {
        reader.Read();
        value = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.String: value = SharedStrings.Get(ref reader); return true;
            case JsonTokenType.Null: return true;
            default: reader.Skip(); return false;
        }
    }

    /// <summary>The shared strings of <see cref="ReadSharedString"/>: per thread, at most <see cref="MaxKept"/> values.</summary>
    private static class SharedStrings
    {
        private const int MaxChars = 64;
        private const int MaxKept = 4096;
        [ThreadStatic] private static HashSet<string>? t_strings;

        public static string Get(ref Utf8JsonReader reader)
        {
            // Escaped, split or long values are read as usual (and not kept).
            if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxChars) return reader.GetString()!;
            Span<char> chars = stackalloc char[MaxChars];
            if (System.Text.Unicode.Utf8.ToUtf16(reader.ValueSpan, chars, out _, out var n, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
                return reader.GetString()!;
            var strings = t_strings ??= new HashSet<string>(StringComparer.Ordinal);
            var value = chars[..n];
            if (strings.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(value, out var kept)) return kept;
            var s = new string(value);
            if (strings.Count < MaxKept) strings.Add(s);
            return s;
        }
    }

    private static bool ReadStrings(ref Utf8JsonReader reader, out List<string>? values)
    {
        reader.Read();
        values = null;
        if (reader.TokenType == JsonTokenType.Null) return true;
        if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); return false; }
        // Made at the first string: an empty array (most posts) leaves the field null, which the post reads as empty.
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String) { reader.Skip(); return false; }
            (values ??= []).Add(reader.GetString()!);
        }
        return true;
    }
}
