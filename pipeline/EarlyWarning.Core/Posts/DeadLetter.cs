namespace EarlyWarning.Core.Posts;

/// <summary>A message the pipeline could not take, kept with its reason and original bytes (never silently dropped).</summary>
public sealed record DeadLetter(SourcePosition Position, string Reason, ReadOnlyMemory<byte> Bytes, DateTimeOffset ReceivedAt);

/// <summary>Reason codes for dead letters (DESIGN.md, "Limits and dead letters").</summary>
public static class DeadLetterReasons
{
    public const string InvalidUtf8 = "invalid_utf8";
    public const string InvalidJson = "invalid_json";
    public const string TooLarge = "too_large";
    public const string BadTimestamp = "bad_timestamp";
    public static string MissingField(string name) => "missing_field:" + name;
    public static string BadField(string name) => "bad_field:" + name;
}
