namespace EarlyWarning.Core.Posts;

/// <summary>One social-media post as the pipeline sees it after decoding (DESIGN.md, "Input: a post").</summary>
public sealed class Post
{
    public required string Id { get; init; }
    public string? Platform { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string AuthorId { get; set; }
    public string? AuthorHandle { get; set; }
    public int AuthorFollowers { get; init; }
    public required string Text { get; init; }
    public string? Lang { get; set; }
    public string? Country { get; init; }
    public string? Region { get; init; }
    public string? ReplyTo { get; init; }
    public string? RepostOf { get; init; }
    public string? QuoteOf { get; init; }
    public IReadOnlyList<string> Mentions { get; set; } = [];
    public IReadOnlyList<string> Hashtags { get; init; } = [];
    public IReadOnlyList<string> Urls { get; init; } = [];
    public IReadOnlyList<MediaItem> Media { get; init; } = [];

    /// <summary>Who reported this post, when it came in through the reports API rather than a feed (pseudonymised before storage).</summary>
    public string? ReportedBy { get; set; }

    /// <summary>The original message bytes; unknown fields live here and are kept in the stored document.</summary>
    public ReadOnlyMemory<byte> Raw { get; set; }
}

/// <summary>A media attachment, identified by its hashes only.</summary>
public sealed record MediaItem(string Type, string? Pdq, string? Md5);

/// <summary>Where a message came from, so a store can checkpoint it and a source can resume after it.</summary>
/// <param name="Source">A stable name for the source, e.g. <c>replay:/path/file.jsonl</c> or <c>kafka:topic/3</c>.</param>
/// <param name="Offset">Position within the source (line number, Kafka offset); monotonically increasing per source.</param>
public readonly record struct SourcePosition(string Source, long Offset);

/// <summary>Raw bytes read from a source, before decoding.</summary>
public readonly record struct RawMessage(ReadOnlyMemory<byte> Bytes, SourcePosition Position);
