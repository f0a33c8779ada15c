namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>How the Elasticsearch store talks to its cluster: where, under which index names, and how hard it retries.</summary>
public sealed class ElasticsearchOptions
{
    /// <summary>Base address of the cluster, e.g. <c>http://127.0.0.1:9200/</c>.</summary>
    public required Uri Url { get; init; }

    /// <summary>
    /// Prefix of every index, template and policy name (<c>earlywarning</c> gives <c>earlywarning-posts-2026.11</c>,
    /// <c>earlywarning-alerts</c>, ...). Lower case, no wildcard characters.
    /// </summary>
    public string IndexPrefix { get; init; } = "earlywarning";

    /// <summary>Largest body of one <c>_bulk</c> request; a batch is split into requests no larger than this (one document larger than it travels alone).</summary>
    public int MaxBulkBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Attempts per bulk item (and per whole request) before a write fails with <see cref="ElasticsearchBulkException"/>.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>First back-off delay; it doubles per attempt up to <see cref="MaxBackoff"/>, with full jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The <c>refresh</c> parameter of writes: <c>wait_for</c> (default) makes a write visible to searches before it is
    /// acknowledged, so the dashboard and a restarted pipeline read what was stored; <c>false</c> trades that for speed.
    /// </summary>
    public string Refresh { get; init; } = "wait_for";

    /// <summary>The folder holding <c>template-*.json</c> and <c>ilm-policy.json</c>; when null it is searched for (see <see cref="ElasticsearchAssets"/>).</summary>
    public string? AssetsDirectory { get; init; }

    /// <summary>Optional basic-auth credentials or API key header value (<c>ApiKey base64</c>) for secured clusters.</summary>
    public string? Authorization { get; init; }

    /// <summary>Timeout of one HTTP request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Seed of the back-off jitter (tests make it reproducible).</summary>
    public int? JitterSeed { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Url);
        if (string.IsNullOrEmpty(IndexPrefix) || IndexPrefix.Any(c => char.IsUpper(c) || c is '*' or ',' or ' ' or '/' or '\\' or '?' or '"' or '<' or '>' or '|' or '#'))
            throw new ArgumentException($"'{IndexPrefix}' is not a valid index prefix (lower case, no wildcards or separators).", nameof(IndexPrefix));
        if (MaxBulkBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxBulkBytes), "at least 1 KiB");
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), "at least 1");
    }
}
