namespace EarlyWarning.Storage;

/// <summary>Conventions every store follows, so the dashboard reads SQLite and Elasticsearch the same way.</summary>
public static class StoreConventions
{
    /// <summary>
    /// The value a timeline point carries in a dimension the query left free (null): the counts were summed over it.
    /// </summary>
    public const string AnyValue = "*";

    /// <summary>Largest number of rows a single query returns, whatever limit the caller asks for.</summary>
    public const int MaxQueryLimit = 10_000;
}

/// <summary>What <c>DeleteOlderThanAsync</c> can expire (the retention job's kinds).</summary>
public static class RetentionKinds
{
    /// <summary>Posts (by <c>created_at</c>) together with their decisions and full-text entries.</summary>
    public const string Posts = "posts";

    /// <summary>Dead letters (by <c>received_at</c>).</summary>
    public const string DeadLetters = "dead_letters";

    /// <summary>Aggregate buckets (by <c>bucket_start</c>).</summary>
    public const string Aggregates = "aggregates";

    public static readonly string[] All = [Posts, DeadLetters, Aggregates];

    public static bool IsValid(string kind) => kind is Posts or DeadLetters or Aggregates;
}
