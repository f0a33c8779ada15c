using EarlyWarning.Network.Matching;
using EarlyWarning.Network.Metrics;

namespace EarlyWarning.Network;

/// <summary>Settings of the network stage: window, memory bounds, co-sharing and coordination thresholds.</summary>
public sealed record NetworkOptions
{
    /// <summary>Sliding event-time window of the account graph; edges and accounts idle for longer are evicted.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Hard bound on accounts in the graph; the least recently active are evicted first.</summary>
    public int MaxVertices { get; init; } = 200_000;

    /// <summary>Hard bound on (aggregated) edges in the graph; the least recently seen are evicted first.</summary>
    public int MaxEdges { get; init; } = 1_000_000;

    /// <summary>Bound on the post id → author map used to resolve reply/repost/quote parents.</summary>
    public int MaxPostIndex { get; init; } = 500_000;

    /// <summary>Two accounts co-share when they post the same URL, media hash or near-duplicate text this close in time.</summary>
    public TimeSpan CoShareInterval { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>MinHash LSH bands; <see cref="LshBands"/> × <see cref="LshRows"/> must not exceed the signature length.</summary>
    public int LshBands { get; init; } = 16;

    /// <summary>MinHash LSH rows per band.</summary>
    public int LshRows { get; init; } = 4;

    /// <summary>Estimated Jaccard similarity at or above which two texts are near-duplicates.</summary>
    public double NearDuplicateJaccard { get; init; } = 0.5;

    /// <summary>Recent posts remembered per content key (URL, media hash, text cluster); caps pairing cost on viral content.</summary>
    public int MaxPostsPerContent { get; init; } = 64;

    /// <summary>
    /// Most recent texts the near-duplicate index holds (a power of two, at least 1024; about 1 KB each at the default
    /// LSH shape and 64-slot signatures). It holds every text of the last <see cref="CoShareInterval"/> up to this
    /// bound; beyond it the oldest are dropped early and counted in <see cref="NetworkStats.RecentTextsDroppedEarly"/>.
    /// </summary>
    public int MaxRecentTexts { get; init; } = 1 << 18;

    /// <summary>How far back coordination detection looks for repeated co-sharing.</summary>
    public TimeSpan CampaignHorizon { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Event time between two coordination detection runs.</summary>
    public TimeSpan DetectionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A pair of accounts is suspicious once it co-shared this many distinct contents.</summary>
    public int MinDistinctContents { get; init; } = 2;

    /// <summary>
    /// A single wave is a campaign when at least this many distinct accounts post near-duplicates of a text never seen
    /// before (see <see cref="NoveltyHorizon"/>) within one <see cref="CoShareInterval"/>: copy-and-paraphrase bursts are
    /// caught on their first wave instead of waiting for a second shared content. Reposts never count. 0 disables.
    /// </summary>
    public int BurstMinAccounts { get; init; } = 8;

    /// <summary>
    /// How far back a text counts as already seen: a near-duplicate cluster whose LSH bands (at least two of them)
    /// occurred earlier within this horizon is recurring organic content, not a novel burst.
    /// </summary>
    public TimeSpan NoveltyHorizon { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Slots of the bounded band memory behind <see cref="NoveltyHorizon"/> (a power of two; older bands are overwritten).</summary>
    public int NoveltySlots { get; init; } = 1 << 18;

    /// <summary>Expected distinct accounts on a novel text within one interval by chance (the burst's Poisson baseline).</summary>
    public double BurstBaseline { get; init; } = 1.0;

    /// <summary>Each account of a group must have at least this many suspicious partners inside the group (k-core).</summary>
    public int MinPartners { get; init; } = 2;

    /// <summary>Smallest group reported as a campaign.</summary>
    public int MinGroupSize { get; init; } = 5;

    /// <summary>
    /// Candidate groups with more accounts than this are evaluated every <see cref="LargeGroupInterval"/> of event
    /// time instead of at every detection: a group's evaluation costs time in proportion to its posts × shuffle rounds,
    /// and on a dense stream organic accounts that keep co-sharing popular links and texts form one component of
    /// thousands of accounts that changes every minute (measured: 2,600 accounts, about half of the network stage's
    /// time at 1M posts over three days). Smaller groups, where a coordinated campaign first shows, keep the
    /// per-detection cadence. 0 = no limit.
    /// </summary>
    public int LargeGroupAccounts { get; init; } = 256;

    /// <summary>How often (event time) groups above <see cref="LargeGroupAccounts"/> are evaluated.</summary>
    public TimeSpan LargeGroupInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Reuse a candidate group's last evaluation when none of its members' posts changed since (exact: the result is
    /// what recomputing gives). Off only to check that claim.
    /// </summary>
    public bool ReuseGroupEvaluations { get; init; } = true;

    /// <summary>Time shuffles of the null model per candidate group.</summary>
    public int ShuffleRounds { get; init; } = 20;

    /// <summary>Minimum -log10 p of the observed synchronised co-shares against the shuffled-time baseline.</summary>
    public double MinScore { get; init; } = 6;

    /// <summary>Minimum ratio of observed to shuffled-baseline synchronised co-shares.</summary>
    public double MinRatio { get; init; } = 3;

    /// <summary>Bound on tracked account pairs.</summary>
    public int MaxPairs { get; init; } = 500_000;

    /// <summary>Bound on post ids carried as evidence of one campaign.</summary>
    public int MaxEvidencePosts { get; init; } = 500;

    /// <summary>Seed of the null model's shuffles (results are deterministic for a given input order).</summary>
    public ulong Seed { get; init; } = 0x5EED_2026;

    /// <summary>Length of top lists in snapshots.</summary>
    public int TopN { get; init; } = 20;

    /// <summary>Source vertices sampled for approximate betweenness.</summary>
    public int BetweennessPivots { get; init; } = 32;

    /// <summary>
    /// Budget of adjacency entries visited by the betweenness searches of one snapshot; on large windows fewer
    /// than <see cref="BetweennessPivots"/> sources are sampled so that brokers stay cheap (at least one).
    /// </summary>
    public long BetweennessMaxVisits { get; init; } = 2_000_000;

    /// <summary>Most label-propagation sweeps per snapshot (communities).</summary>
    public int CommunityIterations { get; init; } = 10;

    /// <summary>
    /// Metrics computed by <see cref="NetworkEngine.Snapshot(DateTimeOffset)"/>. PageRank and components are always
    /// computed; <see cref="NetworkMetrics.Refresh"/> leaves out communities and brokers for the fastest refresh.
    /// </summary>
    public NetworkMetrics SnapshotMetrics { get; init; } = NetworkMetrics.All;

    /// <summary>Known-content hash lists checked on every post's media; null disables matching.</summary>
    public HashListMatcher? HashLists { get; init; }

    internal void Validate()
    {
        static void Positive(double v, string name)
        {
            if (!(v > 0)) throw new ArgumentOutOfRangeException(name, v, "must be positive");
        }
        Positive(Window.TotalMilliseconds, nameof(Window));
        Positive(MaxVertices, nameof(MaxVertices));
        Positive(MaxEdges, nameof(MaxEdges));
        Positive(MaxPostIndex, nameof(MaxPostIndex));
        Positive(CoShareInterval.TotalMilliseconds, nameof(CoShareInterval));
        Positive(LshBands, nameof(LshBands));
        Positive(LshRows, nameof(LshRows));
        Positive(MaxPostsPerContent, nameof(MaxPostsPerContent));
        Positive(CampaignHorizon.TotalMilliseconds, nameof(CampaignHorizon));
        Positive(DetectionInterval.TotalMilliseconds, nameof(DetectionInterval));
        Positive(MinGroupSize, nameof(MinGroupSize));
        Positive(ShuffleRounds, nameof(ShuffleRounds));
        if (LargeGroupAccounts < 0) throw new ArgumentOutOfRangeException(nameof(LargeGroupAccounts), LargeGroupAccounts, "must not be negative");
        Positive(LargeGroupInterval.TotalMilliseconds, nameof(LargeGroupInterval));
        Positive(MaxPairs, nameof(MaxPairs));
        Positive(TopN, nameof(TopN));
        Positive(BetweennessPivots, nameof(BetweennessPivots));
        Positive(BetweennessMaxVisits, nameof(BetweennessMaxVisits));
        Positive(CommunityIterations, nameof(CommunityIterations));
        Positive(NoveltyHorizon.TotalMilliseconds, nameof(NoveltyHorizon));
        Positive(BurstBaseline, nameof(BurstBaseline));
        if (BurstMinAccounts < 0) throw new ArgumentOutOfRangeException(nameof(BurstMinAccounts), BurstMinAccounts, "must not be negative");
        if (NoveltySlots < 1024 || (NoveltySlots & (NoveltySlots - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(NoveltySlots), NoveltySlots, "must be a power of two, at least 1024");
        if (NearDuplicateJaccard is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(NearDuplicateJaccard));
        if (MaxRecentTexts < 1024 || (MaxRecentTexts & (MaxRecentTexts - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(MaxRecentTexts), MaxRecentTexts, "must be a power of two, at least 1024");
    }
}
