using System.Text;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.Core.Tests;

/// <summary>
/// Smoke fuzzing of Core's decoder inside the Core test suite (the full targets, with the text stage and the dataset
/// loaders, live in tests/EarlyWarning.Fuzz): seeded mutations of valid posts never make it throw, and every
/// rejection carries a reason code from DESIGN.md.
/// </summary>
public sealed class FuzzPostDecoderTests
{
    private static readonly byte[][] Seeds =
    [
        """{"id":"tw:1","created_at":"2026-11-08T06:15:03Z","author":{"id":"u:1","handle":"h","followers":15},"text":"hello","lang":"en","geo":{"country":"MM","region":"Rakhine"},"mentions":["u:2"],"hashtags":["x"],"urls":["https://e.org"],"media":[{"type":"image","pdq":"f8","md5":"00"}]}"""u8.ToArray(),
        """{"id":"a","created_at":"2026-11-08","author":{"id":"b"},"text":"","media":[{"type":"video"}],"reply_to":null,"x":{"y":[1,{"z":true}]}}"""u8.ToArray(),
    ];

    private static readonly byte[][] Tokens =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), "null"u8.ToArray(),
        "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "\\u0000"u8.ToArray(), "1e999"u8.ToArray(), [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xFF],
        "\"author\":{\"id\":\"u\"}"u8.ToArray(), "\"created_at\":\"x\""u8.ToArray(), "\"followers\":-1"u8.ToArray(), "\"mentions\":[1]"u8.ToArray(),
    ];

    private static bool IsKnownReason(string r) =>
        r is DeadLetterReasons.InvalidUtf8 or DeadLetterReasons.InvalidJson or DeadLetterReasons.TooLarge or DeadLetterReasons.BadTimestamp
        || r.StartsWith("missing_field:", StringComparison.Ordinal) || r.StartsWith("bad_field:", StringComparison.Ordinal);

    [Fact]
    public void Ten_thousand_mutated_messages_never_throw_and_always_get_a_reason()
    {
        var rng = new Random(9);
        var decoder = new PostDecoder(maxBytes: 2048);
        var failures = new List<string>();
        int accepted = 0, rejected = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var d = new List<byte>(Seeds[rng.Next(Seeds.Length)]);
            for (var m = 1 + rng.Next(4); m > 0; m--)
            {
                var pos = rng.Next(d.Count + 1);
                switch (rng.Next(4))
                {
                    case 0 when d.Count > 0: d[rng.Next(d.Count)] ^= (byte)(1 << rng.Next(8)); break;
                    case 1: d.InsertRange(pos, Tokens[rng.Next(Tokens.Length)]); break;
                    case 2 when pos < d.Count: d.RemoveRange(pos, Math.Min(d.Count - pos, 1 + rng.Next(8))); break;
                    default: d.InsertRange(pos, Enumerable.Repeat((byte)"[{\"a"[rng.Next(4)], rng.Next(1, 3000))); break;
                }
            }
            var input = d.ToArray();
            try
            {
                if (decoder.TryDecode(input, out var post, out var reason))
                {
                    accepted++;
                    if (string.IsNullOrEmpty(post!.Id) || string.IsNullOrEmpty(post.AuthorId)) failures.Add($"input {i}: accepted without id/author");
                }
                else
                {
                    rejected++;
                    if (reason is null || !IsKnownReason(reason)) failures.Add($"input {i}: unknown reason '{reason}'");
                }
            }
#pragma warning disable CA1031 // any escaping exception is the finding
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures.Add($"input {i} ({input.Length} bytes, starts {Convert.ToHexString(input.AsSpan(0, Math.Min(48, input.Length)))}): {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(5)));
        Assert.True(accepted > 500 && rejected > 500, $"mutations too mild or too wild: {accepted} accepted, {rejected} rejected");
    }

    [Theory]
    [InlineData("""{"id":"\ud800","created_at":"2026-11-08T06:15:03Z","author":{"id":"u"},"text":"t"}""")]
    [InlineData("""{"id":"x","created_at":"2026-11-08T06:15:03Z","author":{"id":"u"},"text":"a\udc00b"}""")]
    public void Lone_surrogate_escapes_are_rejected_not_thrown(string json)
    {
        // Found by the fuzzer: Utf8JsonReader.GetString throws InvalidOperationException (not JsonException) here.
        var ok = new PostDecoder().TryDecode(Encoding.UTF8.GetBytes(json), out _, out var reason);
        Assert.False(ok);
        Assert.True(reason is not null && IsKnownReason(reason), reason);
    }
}
