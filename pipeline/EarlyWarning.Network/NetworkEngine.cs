using System.Diagnostics;
using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Network.Coordination;
using EarlyWarning.Network.CoSharing;
using EarlyWarning.Network.Export;
using EarlyWarning.Network.Graph;
using EarlyWarning.Network.Internal;
using EarlyWarning.Network.Matching;
using EarlyWarning.Network.Metrics;

namespace EarlyWarning.Network;

/// <summary>Counters of what the network stage did with its input, including everything it could not use and why.</summary>
public sealed class NetworkStats
{
    public long Posts { get; internal set; }
    /// <summary>Posts older than the window when they arrived (still counted, evicted soon).</summary>
    public long LatePosts { get; internal set; }
    /// <summary>Replies, reposts and quotes whose parent post is not in the post index (no edge made).</summary>
    public long UnresolvedParents { get; internal set; }
    /// <summary>Replies, reposts, quotes and mentions of the author's own account (no edge made).</summary>
    public long SelfInteractions { get; internal set; }
    public long CoShares { get; internal set; }
    public long KnownContentMatches { get; internal set; }
    /// <summary>Candidate groups considered by coordination detection (one per group per detection).</summary>
    public long GroupsTested { get; internal set; }
    /// <summary>Of those, groups whose null model was computed; the rest reused the result of an unchanged group.</summary>
    public long GroupsEvaluated { get; internal set; }
    /// <summary>Large groups skipped at a detection until their <see cref="NetworkOptions.LargeGroupInterval"/> had passed.</summary>
    public long LargeGroupsDeferred { get; internal set; }
    /// <summary>Texts the near-duplicate index dropped while still inside the co-share interval (its <see cref="NetworkOptions.MaxRecentTexts"/> bound was full).</summary>
    public long RecentTextsDroppedEarly { get; internal set; }
    /// <summary>Reasons for input the stage ignored in part or whole (e.g. <c>missing_field:author.id</c>, <c>bad_field:minhash</c>).</summary>
    public Dictionary<string, long> Rejected { get; } = new(StringComparer.Ordinal);

    internal void Reject(string reason) => Rejected[reason] = Rejected.GetValueOrDefault(reason) + 1;
}

/// <summary>A known-content match kept for review.</summary>
public sealed record ContentMatch(string PostId, string Account, DateTimeOffset At, HashMatch Match);

/// <summary>
/// The network stage: a streaming account graph over a sliding event-time window (its edges in slots; a QuikGraph copy on demand), co-sharing and
/// coordination detection, known-content hash matching, and on-demand metrics and exports. Single-threaded and
/// deterministic: feed posts in stream order with <see cref="Observe"/>, collect signals with <see cref="DrainSignals"/>.
/// </summary>
public sealed class NetworkEngine
{
    private const int StateVersion = 4;
    private const int MaxReviewMatches = 1000;
    private readonly NetworkOptions _o;
    private readonly long _windowMs;
    private readonly long _detectEveryMs;
    private readonly List<Signal> _pending = [];
    private readonly List<CoShare> _coShareBuffer = [];
    private readonly List<HashMatch> _matchBuffer = [];
    private readonly HashSet<string> _partners = new(StringComparer.Ordinal);
    private readonly HashSet<string> _burstAccounts = new(StringComparer.Ordinal);
    private readonly List<string> _burstPosts = [];
    private readonly List<string> _keys = [];
    private readonly Queue<ContentMatch> _matches = new();
    private AccountGraph _graph;
    private CoShareIndex _coShare;
    private CoordinationDetector _detector;
    private Dictionary<string, string> _postAuthor = new(StringComparer.Ordinal);
    private Queue<string> _postOrder = new();
    private long _nowMs = long.MinValue;
    private long _lastDetectMs = long.MinValue;
    private Dictionary<int, List<string>>? _lastClusters;
    private long _snapshotEpoch;

    public NetworkEngine(NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options;
        _windowMs = (long)options.Window.TotalMilliseconds;
        _detectEveryMs = (long)options.DetectionInterval.TotalMilliseconds;
        _graph = new AccountGraph(options.Window, options.MaxVertices, options.MaxEdges);
        _coShare = new CoShareIndex(options);
        _detector = new CoordinationDetector(options);
    }

    public NetworkOptions Options => _o;
    public NetworkStats Stats { get; private set; } = new();
    /// <summary>The account graph (its QuikGraph graph is <see cref="AccountGraph.Graph"/>).</summary>
    public AccountGraph Graph => _graph;
    /// <summary>Largest event time seen.</summary>
    public DateTimeOffset? Now => _nowMs == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(_nowMs);
    /// <summary>Recent known-content matches, oldest first (bounded), for review.</summary>
    public IReadOnlyCollection<ContentMatch> RecentMatches => _matches;
    /// <summary>Entries of the post id → author index (bounded by <see cref="NetworkOptions.MaxPostIndex"/>).</summary>
    public int PostIndexCount => _postAuthor.Count;
    /// <summary>Account pairs tracked for coordination (bounded by twice <see cref="NetworkOptions.MaxPairs"/>).</summary>
    public int TrackedPairs => _detector.PairCount;

    /// <summary>Takes one post in stream order (event time = <see cref="Post.CreatedAt"/>).</summary>
    public void Observe(PostEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var post = envelope.Post;
        if (post is null || string.IsNullOrEmpty(post.Id))
        {
            Stats.Reject("missing_field:id");
            return;
        }
        if (string.IsNullOrEmpty(post.AuthorId))
        {
            Stats.Reject("missing_field:author.id");
            return;
        }
        Stats.Posts++;
        var t = post.CreatedAt.ToUnixTimeMilliseconds();
        if (t > _nowMs) _nowMs = t;
        if (t < _nowMs - _windowMs) Stats.LatePosts++;
        _graph.Expire(_nowMs);

        var decision = envelope.Decision;
        var flagged = decision?.IsFlagged ?? false;
        var account = _graph.Touch(post.AuthorId, t);
        // From here on the account record's id string, not this post's copy of it (the post index, co-share entries
        // and coordination records keep it for the whole window).
        var author = account.Account;
        account.Followers = Math.Max(account.Followers, post.AuthorFollowers);
        if (post.Country is not null) account.Country = post.Country;
        if (post.Region is not null) account.Region = post.Region;
        account.AddPost(t, _graph.SlotMs, flagged, post.Hashtags);
        IndexPost(post.Id, author);

        Parent(post.ReplyTo, author, EdgeKind.Reply, t);
        Parent(post.RepostOf, author, EdgeKind.Repost, t);
        Parent(post.QuoteOf, author, EdgeKind.Quote, t);
        var mentions = post.Mentions;
        for (var i = 0; i < mentions.Count; i++)
        {
            var m = mentions[i];
            if (string.IsNullOrEmpty(m)) Stats.Reject("bad_field:mentions");
            else if (m == author) Stats.SelfInteractions++;
            else _graph.AddInteraction(author, m, EdgeKind.Mention, t);
        }

        var keys = ContentKeys(envelope, author, t, out var family);
        if (keys.Count > 0)
        {
            _coShareBuffer.Clear();
            var authorHash = author.GetHashCode();
            foreach (var k in keys) _coShare.Add(k, author, authorHash, post.Id, t, _coShareBuffer);
            _partners.Clear();
            foreach (var c in _coShareBuffer)
            {
                Stats.CoShares++;
                _detector.AddCoShare(c);
                // One co-share edge increment per partner post, however many keys the two posts share.
                if (_partners.Add(c.PostA)) _graph.AddInteraction(c.AccountA, author, EdgeKind.CoShare, t);
            }
            _detector.AddPost(new PostRecord(post.Id, author, t, [.. keys], post.Country, post.Region, decision?.Target,
                decision is not null && decision.Incitement >= 0.5f, post.AuthorFollowers, FirstHashtags(post.Hashtags)));
            var burstSize = Math.Max(_o.BurstMinAccounts, _o.MinGroupSize);
            if (family >= 0 && _o.BurstMinAccounts > 0 && _coShare.FamilyPosts(family, burstSize, _burstAccounts, _burstPosts) >= burstSize)
                _detector.NoteBurst(family, _burstAccounts, _burstPosts, t);
        }

        MatchKnownContent(envelope, author, t);

        if (_lastDetectMs == long.MinValue) _lastDetectMs = _nowMs;
        else if (_nowMs - _lastDetectMs >= _detectEveryMs)
        {
            Detect();
        }
    }

    private void Detect()
    {
        _detector.Detect(_nowMs, _pending);
        _lastDetectMs = _nowMs;
        Stats.GroupsTested = _detector.GroupsTested;
        Stats.GroupsEvaluated = _detector.GroupsEvaluated;
        Stats.LargeGroupsDeferred = _detector.LargeGroupsDeferred;
    }

    /// <summary>Moves signals raised since the last drain into <paramref name="output"/>; returns how many.</summary>
    public int DrainSignals(List<Signal> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var n = _pending.Count;
        output.AddRange(_pending);
        _pending.Clear();
        return n;
    }

    /// <summary>End of stream: runs a last coordination detection over what is left.</summary>
    public void Flush()
    {
        if (_nowMs == long.MinValue) return;
        Detect();
    }

    private void IndexPost(string postId, string author)
    {
        if (_postAuthor.TryAdd(postId, author)) _postOrder.Enqueue(postId);
        while (_postAuthor.Count > _o.MaxPostIndex) _postAuthor.Remove(_postOrder.Dequeue());
    }

    private void Parent(string? parentId, string author, EdgeKind kind, long t)
    {
        if (parentId is null) return;
        if (!_postAuthor.TryGetValue(parentId, out var parentAuthor))
        {
            Stats.UnresolvedParents++;
            return;
        }
        if (parentAuthor == author) Stats.SelfInteractions++;
        else _graph.AddInteraction(author, parentAuthor, kind, t);
    }

    private static string[] FirstHashtags(IReadOnlyList<string> tags)
    {
        var n = Math.Min(tags.Count, 3);
        if (n == 0) return [];
        var first = new string[n];
        for (var i = 0; i < n; i++) first[i] = tags[i];
        return first;
    }

    /// <summary>The post's content keys, in <see cref="_keys"/> (reused: read it before the next post).</summary>
    private List<string> ContentKeys(PostEnvelope envelope, string author, long t, out int family)
    {
        family = -1;
        var post = envelope.Post;
        var keys = _keys;
        keys.Clear();
        var urls = post.Urls;
        for (var i = 0; i < urls.Count; i++)
        {
            var url = urls[i].AsSpan().Trim();
            if (url.IsEmpty) Stats.Reject("bad_field:urls");
            else AddDistinct(keys, Key("u:", url));
        }
        var media = post.Media;
        for (var i = 0; i < media.Count; i++)
        {
            var m = media[i];
            if (m is null) continue;
            if (!string.IsNullOrWhiteSpace(m.Md5)) AddDistinct(keys, Key("m:", m.Md5.AsSpan().Trim(), lower: true));
            if (!string.IsNullOrWhiteSpace(m.Pdq)) AddDistinct(keys, Key("p:", m.Pdq.AsSpan().Trim(), lower: true));
        }
        // A repost carries its parent's text: that is amplification (a repost edge), not independent co-sharing.
        if (post.RepostOf is null && envelope.MinHash is { } sig)
        {
            var before = _coShare.SignaturesRejected;
            var k = _coShare.TextKey(author, post.Id, t, sig);
            Stats.RecentTextsDroppedEarly = _coShare.TextsDroppedEarly;
            if (k is not null)
            {
                keys.Add(k);
                family = _coShare.LastFamily;
            }
            else if (_coShare.SignaturesRejected > before) Stats.Reject(sig.Length < _o.LshBands * _o.LshRows ? "bad_field:minhash" : "empty_text_signature");
        }
        return keys;
    }

    private char[] _keyChars = new char[256];

    /// <summary>The content key <paramref name="prefix"/> + <paramref name="value"/> (lower-cased when asked), as the co-share index's own string when it has one.</summary>
    private string Key(string prefix, ReadOnlySpan<char> value, bool lower = false)
    {
        var n = prefix.Length + value.Length;
        if (_keyChars.Length < n) _keyChars = new char[Math.Max(n, _keyChars.Length * 2)];
        prefix.CopyTo(_keyChars);
        var rest = _keyChars.AsSpan(prefix.Length, value.Length);
        if (lower) value.ToLowerInvariant(rest);
        else value.CopyTo(rest);
        return _coShare.Intern(_keyChars.AsSpan(0, n));
    }

    private static void AddDistinct(List<string> keys, string k)
    {
        if (!keys.Contains(k)) keys.Add(k);
    }

    private void MatchKnownContent(PostEnvelope envelope, string author, long t)
    {
        var lists = _o.HashLists;
        var post = envelope.Post;
        if (lists is null || post.Media.Count == 0) return;
        _matchBuffer.Clear();
        foreach (var m in post.Media)
        {
            if (m is null) continue;
            if (!string.IsNullOrWhiteSpace(m.Md5)) lists.MatchExact(m.Md5, HashType.Md5, _matchBuffer);
            if (!string.IsNullOrWhiteSpace(m.Pdq) && !lists.MatchPdq(m.Pdq, _matchBuffer)) Stats.Reject("bad_field:media.pdq");
        }
        if (_matchBuffer.Count == 0) return;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(t);
        foreach (var m in _matchBuffer)
        {
            _matches.Enqueue(new ContentMatch(post.Id, author, at, m));
            if (_matches.Count > MaxReviewMatches) _matches.Dequeue();
        }
        Stats.KnownContentMatches++;
        var best = _matchBuffer.Min(m => m.Distance);
        var bestThreshold = _matchBuffer.Where(m => m.Distance == best).Max(m => MaxDistance(lists, m));
        _pending.Add(new Signal
        {
            Kind = AlertKinds.KnownContentMatch,
            Scope = new Scope(post.Country, post.Region, envelope.Decision?.Target),
            WindowStart = at,
            WindowEnd = at,
            // 1 for an exact match, falling towards 0 at the list's distance threshold.
            Score = 1 - ((double)best / (bestThreshold + 1)),
            Observed = _matchBuffer.Count,
            Reach = post.AuthorFollowers,
            IncitementShare = envelope.Decision is { Incitement: >= 0.5f } ? 1 : 0,
            Evidence = new Evidence
            {
                PostIds = [post.Id],
                Accounts = [author],
                TopTerms = [.. _matchBuffer.Select(m => $"{m.List}@{m.ListVersion}:{m.Label}").Distinct().Order(StringComparer.Ordinal)],
            },
            Detector = "network.hash_lists",
        });
    }

    private static int MaxDistance(HashListMatcher lists, HashMatch m) =>
        m.Type == HashType.Pdq ? lists.Lists.FirstOrDefault(l => l.Name == m.List)?.MaxDistance ?? 0 : 0;

    // ---- analyst API -------------------------------------------------------------------------------------------

    /// <summary>Network metrics over the window ending at <paramref name="asOf"/>, the ones in <see cref="NetworkOptions.SnapshotMetrics"/>.</summary>
    public NetworkSnapshot Snapshot(DateTimeOffset asOf) => Snapshot(asOf, _o.SnapshotMetrics);

    /// <summary>
    /// Network metrics over the window ending at <paramref name="asOf"/>: PageRank and components always; communities
    /// (label propagation) and brokers (sampled betweenness) when <paramref name="metrics"/> asks for them. Without
    /// communities each component is its own community; without betweenness every account's betweenness is 0 and
    /// brokers are ordered by the number of communities they bridge, then degree.
    /// </summary>
    public NetworkSnapshot Snapshot(DateTimeOffset asOf, NetworkMetrics metrics)
    {
        var input = CaptureSnapshot(asOf);
        var snapshot = input.Compute(metrics);
        _lastClusters = input.Members;
        return snapshot;
    }

    /// <summary>
    /// The window ending at <paramref name="asOf"/> as it stands now (its accounts with their counts, followers and
    /// hashtags, and its arcs), copied so that <see cref="SnapshotInput.Compute(NetworkMetrics)"/> can run the graph algorithms
    /// while the engine goes on: a caller that holds a lock around the engine holds it only for this copy. Same result
    /// as <see cref="Snapshot(DateTimeOffset, NetworkMetrics)"/> at this moment (which does both), except that
    /// <see cref="ClusterMembers"/> keeps answering from the last snapshot taken by the engine itself.
    /// </summary>
    public SnapshotInput CaptureSnapshot(DateTimeOffset asOf)
    {
        var sw = Stopwatch.StartNew();
        var asOfMs = asOf.ToUnixTimeMilliseconds();
        var (names, stats) = WindowAccounts(asOfMs);
        // Vertex numbers go on the accounts' own records for this snapshot (an epoch marks which are current), so
        // the edge scan below reads them through the edges' account numbers without hashing any account id.
        var epoch = ++_snapshotEpoch;
        for (var i = 0; i < stats.Length; i++)
        {
            stats[i].SnapshotEpoch = epoch;
            stats[i].SnapshotIndex = i;
        }
        // Arcs straight from the graph's edge slots; co-share edges count both ways. CsrGraph.Build orders
        // arcs itself, so the scan order does not matter.
        var start = asOfMs - _windowMs;
        var arcs = new List<(int, int, double)>(_graph.EdgeCount + (_graph.EdgeCount / 4));
        var edgeCount = 0;
        foreach (ref readonly var e in _graph.EdgeSlots)
        {
            if (!e.Live || e.LastSeenMs <= start || e.FirstSeenMs > asOfMs) continue;
            var src = _graph.AccountAt(e.Source);
            var dst = _graph.AccountAt(e.Target);
            if (src.SnapshotEpoch != epoch || dst.SnapshotEpoch != epoch) continue;
            int s = src.SnapshotIndex, d = dst.SnapshotIndex;
            edgeCount++;
            arcs.Add((s, d, e.Weight));
            if (e.Kind == EdgeKind.CoShare) arcs.Add((d, s, e.Weight));
        }
        var slotMs = _graph.SlotMs;
        var accounts = new SnapshotInput.Account[names.Length];
        for (var v = 0; v < names.Length; v++)
        {
            var (posts, flaggedPosts) = stats[v].Counts(asOfMs, slotMs);
            accounts[v] = new SnapshotInput.Account(posts, flaggedPosts, stats[v].Followers, [.. stats[v].Hashtags]);
        }
        sw.Stop();
        return new SnapshotInput(asOf, _windowMs, names, accounts, arcs, edgeCount, _o, sw);
    }

    /// <summary>
    /// Sampled sources for betweenness: <see cref="NetworkOptions.BetweennessPivots"/>, fewer when that many
    /// breadth-first searches would visit more than <see cref="NetworkOptions.BetweennessMaxVisits"/> adjacency
    /// entries (at least one).
    /// </summary>
    internal static int BetweennessPivots(CsrGraph csr, NetworkOptions o)
    {
        var perPivot = Math.Max(1L, csr.UndirectedEdgeCount * 2L + csr.VertexCount);
        return (int)Math.Clamp(o.BetweennessMaxVisits / perPivot, 1, o.BetweennessPivots);
    }

    /// <summary>Members of a cluster of the most recent <see cref="Snapshot(DateTimeOffset)"/> (taken now when there is none), by PageRank.</summary>
    public IReadOnlyList<string> ClusterMembers(int clusterId)
    {
        if (_lastClusters is null)
        {
            if (_nowMs == long.MinValue) return [];
            Snapshot(DateTimeOffset.FromUnixTimeMilliseconds(_nowMs));
        }
        return _lastClusters!.TryGetValue(clusterId, out var l) ? l : [];
    }

    /// <summary>The accounts within <paramref name="depth"/> hops of <paramref name="account"/> (either direction) and the edges among them.</summary>
    public EgoNetwork EgoNetwork(string account, int depth, int maxAccounts = 5000)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var dist = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!_graph.TryGetAccount(account, out _)) return new EgoNetwork(account, depth, dist, [], false);
        var truncated = false;
        dist[account] = 0;
        var frontier = new List<string> { account };
        for (var d = 1; d <= depth && frontier.Count > 0 && !truncated; d++)
        {
            var next = new List<string>();
            foreach (var v in frontier)
            {
                var neighbours = _graph.OutEdges(v).Select(e => e.Target).Concat(_graph.InEdges(v).Select(e => e.Source))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
                foreach (var u in neighbours)
                {
                    if (dist.ContainsKey(u)) continue;
                    if (dist.Count >= maxAccounts)
                    {
                        truncated = true;
                        break;
                    }
                    dist[u] = d;
                    next.Add(u);
                }
                if (truncated) break;
            }
            frontier = next;
        }
        var edges = dist.Keys.Order(StringComparer.Ordinal).SelectMany(_graph.OutEdges).Where(e => dist.ContainsKey(e.Target))
            .Select(ToView).ToList();
        return new EgoNetwork(account, depth, dist, edges, truncated);
    }

    /// <summary>The graph of the window ending at <paramref name="asOf"/>, for export.</summary>
    public GraphView Window(DateTimeOffset asOf)
    {
        var asOfMs = asOf.ToUnixTimeMilliseconds();
        var (names, stats, edges) = WindowContents(asOfMs);
        var slotMs = _graph.SlotMs;
        var nodes = new List<NodeView>(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            var (p, f) = stats[i].Counts(asOfMs, slotMs);
            nodes.Add(new NodeView(names[i], p, f, stats[i].Followers, stats[i].Country, stats[i].Region));
        }
        return new GraphView(DateTimeOffset.FromUnixTimeMilliseconds(asOfMs - _windowMs), asOf, nodes, [.. edges.Select(ToView)]);
    }

    public void ExportGraphMl(Stream output, DateTimeOffset asOf) => GraphExport.WriteGraphMl(output, Window(asOf));

    public void ExportGexf(Stream output, DateTimeOffset asOf) => GraphExport.WriteGexf(output, Window(asOf));

    private static EdgeView ToView(AccountEdge e) => new(e.Source, e.Target, AccountEdge.KindName(e.Kind), e.Weight, e.FirstSeen, e.LastSeen);

    /// <summary>Accounts active in the window ending at <paramref name="asOfMs"/>, in ordinal id order.</summary>
    private (string[] Names, AccountStats[] Stats) WindowAccounts(long asOfMs)
    {
        var start = asOfMs - _windowMs;
        var stats = _graph.Accounts.Where(a => a.LastActiveMs > start && a.FirstSeenMs <= asOfMs).ToArray();
        var names = new string[stats.Length];
        for (var i = 0; i < stats.Length; i++) names[i] = stats[i].Account;
        Array.Sort(names, stats, StringComparer.Ordinal);
        return (names, stats);
    }

    private (string[] Names, AccountStats[] Stats, List<AccountEdge> Edges) WindowContents(long asOfMs)
    {
        var start = asOfMs - _windowMs;
        var stats = _graph.Accounts.Where(a => a.LastActiveMs > start && a.FirstSeenMs <= asOfMs)
            .OrderBy(a => a.Account, StringComparer.Ordinal).ToArray();
        var names = stats.Select(a => a.Account).ToArray();
        var inWindow = new HashSet<string>(names, StringComparer.Ordinal);
        var edges = new List<AccountEdge>();
        foreach (var a in names)
        {
            foreach (var e in _graph.OutEdges(a))
            {
                if (e.LastSeenMs > start && e.FirstSeenMs <= asOfMs && inWindow.Contains(e.Target)) edges.Add(e);
            }
        }
        return (names, stats, edges);
    }

    // ---- state ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// A compact summary of the stage's state: the graph, the post index, coordination state and open campaigns.
    /// Not included: the MinHash LSH buckets and which open text clusters began novel (at most one co-share interval of
    /// near-duplicate matching is lost on restore; a burst already noted is kept).
    /// </summary>
    public byte[] SaveState() => CaptureState().Encode();

    /// <summary>
    /// Takes the state <see cref="SaveState"/> would save now, for encoding later: the caller must hold the engine (as
    /// for <see cref="Observe"/>) during this call only; <see cref="StateCapture.Encode"/> can then run on another
    /// thread while the engine goes on, and gives the same bytes. Costs a fraction of <see cref="SaveState"/> (the
    /// large parts are copied, not sorted or encoded).
    /// </summary>
    public StateCapture CaptureState()
    {
        var c = new StateCapture();
        var w = c.Now;
        w.Write("EWNET");
        w.Write(StateVersion);
        w.Write(_nowMs);
        w.Write(_lastDetectMs);
        w.Write(_coShare.NextCluster);
        _graph.Capture(c);
        // The index as two aligned arrays (post, author; null author = not indexed), cheaper under the lock than a copy
        // of the dictionary; pooled (500k entries at every checkpoint) and cleared when returned.
        var count = _postOrder.Count;
        var order = WindowArrayPool<string>.Shared.Rent(count);
        _postOrder.CopyTo(order, 0);
        var orderAuthors = WindowArrayPool<string?>.Shared.Rent(count);
        for (var i = 0; i < count; i++) orderAuthors[i] = _postAuthor.GetValueOrDefault(order[i]);
        c.Later(w2 =>
        {
            try { WritePostIndex(w2, order.AsSpan(0, count), orderAuthors.AsSpan(0, count)); }
            finally
            {
                WindowArrayPool<string>.Shared.Return(order, clearArray: true);
                WindowArrayPool<string?>.Shared.Return(orderAuthors, clearArray: true);
            }
        });
        _detector.Capture(c);
        w = c.Now;
        _coShare.WriteMemory(w, _nowMs);
        _detector.WriteBursts(w);
        w.Write(_detector.LastLargeGroupMs);
        return c.Complete();
    }

    // Each author once: later posts of the same author refer to the first by number (1-based; 0 = a new author
    // follows). Most of the index's 500,000 posts share authors.
    private static void WritePostIndex(BinaryWriter w, ReadOnlySpan<string> order, ReadOnlySpan<string?> orderAuthors)
    {
        var indexed = 0;
        foreach (var a in orderAuthors)
            if (a is not null) indexed++;
        w.Write(indexed);
        var authors = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < order.Length; i++)
        {
            var p = order[i];
            var a = orderAuthors[i];
            if (a is null) continue;
            w.Write(p);
            if (authors.TryGetValue(a, out var k)) w.Write7BitEncodedInt(k);
            else
            {
                authors.Add(a, authors.Count + 1);
                w.Write7BitEncodedInt(0);
                w.Write(a);
            }
        }
    }

    /// <summary>Replaces the state with one saved by <see cref="SaveState"/>. Throws <see cref="InvalidDataException"/> on a corrupt or foreign blob (state unchanged).</summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var graph = new AccountGraph(_o.Window, _o.MaxVertices, _o.MaxEdges);
        var coShare = new CoShareIndex(_o);
        var detector = new CoordinationDetector(_o);
        var postAuthor = new Dictionary<string, string>(StringComparer.Ordinal);
        var postOrder = new Queue<string>();
        long now, lastDetect;
        try
        {
            using var r = new BinaryReader(new MemoryStream(state), System.Text.Encoding.UTF8);
            if (r.ReadString() != "EWNET") throw new InvalidDataException("not a network state");
            var version = r.ReadInt32();
            // Version 1 lacks the novelty memory and pending bursts (both start empty); version 2 wrote the memory as plain
            // bytes; versions before 4 name both accounts of every edge and every post's author in full, and lack the time
            // of the last large-group evaluation (large groups are then due at once).
            if (version is < 1 or > StateVersion) throw new InvalidDataException($"unsupported network state version {version}");
            now = r.ReadInt64();
            lastDetect = r.ReadInt64();
            coShare.NextCluster = r.ReadInt32();
            graph.Read(r, edgeIds: version < 4);
            var n = r.ReadInt32();
            var authors = new List<string>();
            for (var i = 0; i < n; i++)
            {
                var p = r.ReadString();
                string a;
                if (version < 4) a = r.ReadString();
                else
                {
                    var k = r.Read7BitEncodedInt();
                    if (k == 0) authors.Add(a = r.ReadString());
                    else if (k <= authors.Count) a = authors[k - 1];
                    else throw new InvalidDataException("network state: post refers to an unknown author");
                }
                if (postAuthor.TryAdd(p, a)) postOrder.Enqueue(p);
            }
            detector.Read(r);
            if (version >= 2)
            {
                coShare.ReadMemory(r, highBit: version >= 3);
                detector.ReadBursts(r);
            }
            if (version >= 4) detector.LastLargeGroupMs = r.ReadInt64();
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("network state is truncated", ex);
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException("network state is corrupt", ex);
        }
        // Rebuild the exact-key co-share lists from the recent posts still inside the interval.
        var intervalMs = (long)_o.CoShareInterval.TotalMilliseconds;
        var scratch = new List<CoShare>();
        foreach (var rec in detector.Recent)
        {
            if (rec.TimeMs < now - intervalMs) continue;
            foreach (var k in rec.Keys) coShare.Add(k, rec.Author, rec.Author.GetHashCode(), rec.PostId, rec.TimeMs, scratch);
        }
        _graph = graph;
        _coShare = coShare;
        _detector = detector;
        _postAuthor = postAuthor;
        _postOrder = postOrder;
        _nowMs = now;
        _lastDetectMs = lastDetect;
        _lastClusters = null;
        _pending.Clear();
    }
}
