using System.Text;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Core.Tests;

public class PostDecoderTests
{
    private static readonly PostDecoder Decoder = new();

    private static (bool Ok, Post? Post, string? Reason) Decode(string json) => Decode(Encoding.UTF8.GetBytes(json));

    private static (bool Ok, Post? Post, string? Reason) Decode(byte[] bytes)
    {
        var ok = Decoder.TryDecode(bytes, out var post, out var reason);
        return (ok, post, reason);
    }

    private const string Full = """
        {"id":"tw:1850331","platform":"twitter","created_at":"2026-11-08T06:15:03Z",
         "author":{"id":"u:88121","handle":"someone","followers":1520},
         "text":"polling station open","lang":"en",
         "geo":{"country":"MM","region":"Rakhine"},
         "reply_to":"tw:1850001","repost_of":null,"quote_of":null,
         "mentions":["u:7712"],"hashtags":["election"],"urls":["https://example.org/a"],
         "media":[{"type":"image","pdq":"f8f8","md5":"abc"}],
         "unknown_field":{"nested":[1,2,3]}}
        """;

    [Fact]
    public void Decodes_every_documented_field()
    {
        var (ok, p, reason) = Decode(Full);
        Assert.True(ok, reason);
        Assert.Equal("tw:1850331", p!.Id);
        Assert.Equal("twitter", p.Platform);
        Assert.Equal(new DateTimeOffset(2026, 11, 8, 6, 15, 3, TimeSpan.Zero), p.CreatedAt);
        Assert.Equal("u:88121", p.AuthorId);
        Assert.Equal("someone", p.AuthorHandle);
        Assert.Equal(1520, p.AuthorFollowers);
        Assert.Equal("polling station open", p.Text);
        Assert.Equal("en", p.Lang);
        Assert.Equal("MM", p.Country);
        Assert.Equal("Rakhine", p.Region);
        Assert.Equal("tw:1850001", p.ReplyTo);
        Assert.Null(p.RepostOf);
        Assert.Equal(["u:7712"], p.Mentions);
        Assert.Equal(["election"], p.Hashtags);
        Assert.Single(p.Urls);
        Assert.Equal("f8f8", Assert.Single(p.Media).Pdq);
        Assert.Equal(Encoding.UTF8.GetByteCount(Full), p.Raw.Length);
    }

    [Theory]
    [InlineData("""{"created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x"}""", "missing_field:id")]
    [InlineData("""{"id":"a","author":{"id":"u:1"},"text":"x"}""", "missing_field:created_at")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","text":"x"}""", "missing_field:author.id")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"handle":"h"},"text":"x"}""", "missing_field:author.id")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"}}""", "missing_field:text")]
    [InlineData("""{"id":"a","created_at":"yesterday","author":{"id":"u:1"},"text":"x"}""", "bad_timestamp")]
    [InlineData("""{"id":"a","created_at":12,"author":{"id":"u:1"},"text":"x"}""", "bad_timestamp")]
    [InlineData("""{"id":5,"created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x"}""", "bad_field:id")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1","followers":-3},"text":"x"}""", "bad_field:author.followers")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x","mentions":"u:2"}""", "bad_field:mentions")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":"u:1","text":"x"}""", "bad_field:author")]
    [InlineData("{\"id\":\"a\",\"created_at\":\"2026-11-08T06:15:03Z\",\"author\":{\"id\":\"u:1\"},\"text\":\"x\"", "invalid_json")]
    [InlineData("""{"id":"a",}""", "invalid_json")]
    [InlineData("""[1,2]""", "invalid_json")]
    [InlineData("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x"} {}""", "invalid_json")]
    [InlineData("", "invalid_json")]
    [InlineData("not json at all", "invalid_json")]
    public void Bad_messages_get_a_reason_code(string json, string expected)
    {
        var (ok, p, reason) = Decode(json);
        Assert.False(ok);
        Assert.Null(p);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void Invalid_utf8_is_reported_as_such()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"xx"}""");
        bytes[^3] = 0xC3; // a lead byte followed by '"' is not valid UTF-8
        Assert.Equal("invalid_utf8", Decode(bytes).Reason);
    }

    [Fact]
    public void Oversized_messages_are_rejected_before_parsing()
    {
        var big = """{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":" """ + new string('x', 70_000) + "\"}";
        Assert.Equal("too_large", Decode(big).Reason);
        Assert.True(new PostDecoder(maxBytes: 200_000).TryDecode(Encoding.UTF8.GetBytes(big), out _, out _));
    }

    [Fact]
    public void Empty_text_is_allowed_when_media_is_present()
    {
        var (ok, p, _) = Decode("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"media":[{"type":"image","md5":"00"}]}""");
        Assert.True(ok);
        Assert.Equal("", p!.Text);
    }

    [Fact]
    public void Empty_and_repeated_arrays_read_as_empty_or_as_their_last_value()
    {
        var (ok, p, reason) = Decode("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x","mentions":[],"hashtags":[],"urls":[],"media":[]}""");
        Assert.True(ok, reason);
        Assert.Empty(p!.Mentions);
        Assert.Empty(p.Hashtags);
        Assert.Empty(p.Urls);
        Assert.Empty(p.Media);
        // A repeated field: the last one counts, empty or not.
        (ok, p, reason) = Decode("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x","hashtags":["a","b"],"hashtags":[],"urls":[],"urls":["u"]}""");
        Assert.True(ok, reason);
        Assert.Empty(p!.Hashtags);
        Assert.Equal(["u"], p.Urls);
        // Empty media does not stand in for text; a bad element is still refused.
        Assert.Equal("missing_field:text", Decode("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"media":[]}""").Reason);
        Assert.Equal("bad_field:hashtags", Decode("""{"id":"a","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1"},"text":"x","hashtags":["a",1]}""").Reason);
    }

    [Fact]
    public void Repeated_platform_language_and_place_values_are_one_shared_string_each_and_read_as_before()
    {
        static string Json(string geo) =>
            "{\"id\":\"a\",\"platform\":\"sim\",\"created_at\":\"2026-11-08T06:15:03Z\",\"author\":{\"id\":\"u:1\"},\"text\":\"x\",\"lang\":\"my\",\"geo\":" + geo + "}";
        var (ok1, p1, _) = Decode(Json("""{"country":"MM","region":"Yangon"}"""));
        var (ok2, p2, _) = Decode(Json("""{"country":"MM","region":"Yangon"}"""));
        Assert.True(ok1 && ok2);
        Assert.Equal(("sim", "my", "MM", "Yangon"), (p1!.Platform, p1.Lang, p1.Country, p1.Region));
        Assert.Same(p1.Country, p2!.Country);
        Assert.Same(p1.Region, p2.Region);
        Assert.Same(p1.Lang, p2.Lang);
        Assert.Same(p1.Platform, p2.Platform);
        // Escaped, non-ASCII and long values read exactly as any string.
        var (ok3, p3, _) = Decode(Json("""{"country":"MM","region":"ရန်ကုန်"}"""));
        Assert.True(ok3);
        Assert.Equal(("MM", "ရန်ကုန်"), (p3!.Country, p3.Region));
        var longRegion = new string('r', 300);
        var (ok4, p4, _) = Decode(Json("{\"country\":\"MM\",\"region\":\"" + longRegion + "\"}"));
        Assert.True(ok4);
        Assert.Equal(longRegion, p4!.Region);
        // Bytes that are not UTF-8 are refused before any field is read.
        var bad = Encoding.UTF8.GetBytes(Json("""{"country":"MM","region":"Yangon"}"""));
        bad[Array.IndexOf(bad, (byte)'Y')] = 0xFF;
        Assert.Equal("invalid_utf8", Decode(bad).Reason);
    }

    [Fact]
    public void Timestamps_with_offsets_are_converted_to_utc()
    {
        var (ok, p, _) = Decode("""{"id":"a","created_at":"2026-11-08T12:45:03+06:30","author":{"id":"u:1"},"text":"x"}""");
        Assert.True(ok);
        Assert.Equal(new DateTimeOffset(2026, 11, 8, 6, 15, 3, TimeSpan.Zero), p!.CreatedAt);
        Assert.Equal(TimeSpan.Zero, p.CreatedAt.Offset);
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(7);
        var seed = Encoding.UTF8.GetBytes(Full);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])seed.Clone();
            var edits = rng.Next(1, 6);
            for (var e = 0; e < edits; e++)
            {
                var at = rng.Next(bytes.Length);
                bytes[at] = (byte)rng.Next(256);
            }
            var len = rng.Next(bytes.Length + 1);
            var ok = Decoder.TryDecode(bytes.AsMemory(0, len), out var post, out var reason);
            Assert.True(ok ? post is not null && reason is null : post is null && reason is not null);
        }
    }
}
