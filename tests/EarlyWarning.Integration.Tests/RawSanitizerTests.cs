using System.Text;
using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Privacy;

namespace EarlyWarning.Integration.Tests;

public class RawSanitizerTests
{
    private static readonly Pseudonymizer P = new(Enumerable.Repeat((byte)7, 32).ToArray());

    [Fact]
    public void Identifiers_are_pseudonymised_geo_is_coarsened_and_unknown_fields_kept()
    {
        var json = """{"id":"t:1","created_at":"2026-11-08T06:00:00Z","author":{"id":"u:42","handle":"alice","followers":3},"text":"x","mentions":["u:7"],"geo":{"country":"KE","region":"Nairobi","lat":-1.28,"lon":36.8},"extra":{"n":[1,true,null]}}""";
        var output = Encoding.UTF8.GetString(RawSanitizer.Rewrite(Encoding.UTF8.GetBytes(json), P));
        Assert.DoesNotContain("u:42", output);
        Assert.DoesNotContain("alice", output);
        Assert.DoesNotContain("u:7", output);
        Assert.Contains(P.Pseudonymize("u:42"), output);
        Assert.Contains(P.Pseudonymize("u:7"), output);
        Assert.DoesNotContain("lat", output);
        Assert.Contains("\"region\":\"Nairobi\"", output);
        Assert.Contains("\"extra\":{\"n\":[1,true,null]}", output);
        Assert.True(new PostDecoder().TryDecode(Encoding.UTF8.GetBytes(output), out _, out var reason), reason);
    }

    [Fact]
    public void A_document_that_cannot_be_sanitised_becomes_the_placeholder_and_is_recognised_as_such()
    {
        // A lone surrogate in a field the decoder skips: the post decodes, its JSON cannot be written back.
        var json = Encoding.UTF8.GetBytes("""{"id":"t:1","created_at":"2026-11-08T06:00:00Z","author":{"id":"u:42"},"text":"x","note":"\ud800"}""");
        Assert.True(new PostDecoder().TryDecode(json, out _, out var reason), reason);
        var output = RawSanitizer.Rewrite(json, P);
        Assert.Contains("raw_unavailable", Encoding.UTF8.GetString(output));
        Assert.DoesNotContain("u:42", Encoding.UTF8.GetString(output));
        Assert.True(RawSanitizer.IsPlaceholder(output));
        var fine = RawSanitizer.Rewrite(Encoding.UTF8.GetBytes("""{"id":"t:1","created_at":"2026-11-08T06:00:00Z","author":{"id":"u:42"},"text":"x"}"""), P);
        Assert.False(RawSanitizer.IsPlaceholder(fine));
    }

    [Fact]
    public void A_reports_reporter_is_pseudonymised_at_the_top_level_only()
    {
        var json = """{"id":"report:1","created_at":"2026-11-08T06:00:00Z","author":{"id":"partner:ngo-kisumu-7"},"text":"x","reported_by":"ngo-kisumu-7","extra":{"reported_by":"kept as is"}}""";
        var output = Encoding.UTF8.GetString(RawSanitizer.Rewrite(Encoding.UTF8.GetBytes(json), P));
        Assert.DoesNotContain("ngo-kisumu-7", output);
        Assert.Contains("\"reported_by\":\"" + P.Pseudonymize("ngo-kisumu-7") + "\"", output);
        Assert.Contains("\"extra\":{\"reported_by\":\"kept as is\"}", output);
        Assert.True(new PostDecoder().TryDecode(Encoding.UTF8.GetBytes(output), out var post, out var reason), reason);
        Assert.Equal(P.Pseudonymize("ngo-kisumu-7"), post!.ReportedBy);
    }

    [Theory]
    [InlineData("\uFEFF{\"id\":\"t:1\",\"created_at\":\"2026-11-08T06:00:00Z\",\"author\":{\"id\":\"u:42\"},\"text\":\"x\"}")]
    [InlineData("{\"id\":\"t:1\",\"created_at\":\"2026-11-08T06:00:00Z\",\"author\":{\"id\":\"u:42\"},\"text\":\"x\",\"junk\":\"\\ud800\"}")]
    [InlineData("{\"id\":\"t:1\",\"created_at\":\"2026-11-08T06:00:00Z\",\"author\":{\"id\":\"u:42\"},\"text\":\"x\",\"\\udc00\":1}")]
    public void Documents_the_decoder_accepts_never_make_the_sanitiser_throw_or_leak(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        // Either the decoder dead-letters it with a reason, or the sanitiser copes with it.
        if (!new PostDecoder().TryDecode(bytes, out _, out var reason))
        {
            Assert.Equal("invalid_json", reason);
            return;
        }
        var output = Encoding.UTF8.GetString(RawSanitizer.Rewrite(bytes, P));
        Assert.DoesNotContain("u:42", output);
    }
}
