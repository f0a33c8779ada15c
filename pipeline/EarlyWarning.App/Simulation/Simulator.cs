using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

[assembly: InternalsVisibleTo("EarlyWarning.App.Tests")]

namespace EarlyWarning.App.Simulation;

/// <summary>One simulated post: its event time and one UTF-8 JSON object (no newline) in the input format.</summary>
public readonly record struct SimulatedPost(DateTimeOffset CreatedAt, byte[] Json);

/// <summary>What the simulator meant a post to be; tests compare it with what the lexicons find.</summary>
internal enum PostKind : byte
{
    Neutral, Identity, Offensive, Hate, Spike, Campaign, Decoy, Incitement, IncitementRepost, Emerging,
}

/// <summary>
/// Synthetic social-media stream for a scenario (DESIGN.md, "The election-day scenario"), with injected
/// incidents written to a <see cref="GroundTruth"/>. The whole stream is planned in the constructor (times,
/// authors, kinds, links, incidents), so the truth is complete before generation; <see cref="Generate"/> then
/// renders the planned posts to JSON lazily. The same scenario, seed and volume give a byte-identical stream.
/// </summary>
public sealed class Simulator
{
    /// <summary>Scenario names this simulator knows.</summary>
    public static readonly IReadOnlyList<string> Scenarios = [ElectionDay.Name];

    private const int RepostRing = 64;
    private const double OffensiveRate = 0.08, IdentityRate = 0.06, ReplyRate = 0.15, RepostRate = 0.10, QuoteRate = 0.04;

    private readonly int _seed;
    private readonly Plan[] _plans;
    private readonly Account[] _accounts;
    private readonly int[][] _influencersByCountry;
    private readonly GroundTruth _truth;

    public Simulator(string scenario = ElectionDay.Name, int seed = 1, int? posts = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (!string.Equals(scenario, ElectionDay.Name, StringComparison.Ordinal))
            throw new ArgumentException($"unknown scenario '{scenario}'; known scenarios: {string.Join(", ", Scenarios)}", nameof(scenario));
        if (posts is <= 0) throw new ArgumentOutOfRangeException(nameof(posts), posts, "posts must be positive");
        _seed = seed;
        Scenario = scenario;
        RequestedPosts = posts ?? ElectionDay.DefaultPosts;
        var planner = new Planner(seed, RequestedPosts);
        planner.Run();
        _plans = planner.Plans;
        _accounts = planner.Accounts;
        _influencersByCountry = planner.InfluencersByCountry;
        _truth = planner.BuildTruth(scenario);
    }

    public string Scenario { get; }
    public int Seed => _seed;
    public int RequestedPosts { get; }

    /// <summary>The number of posts <see cref="Generate"/> yields.</summary>
    public int Count => _plans.Length;

    /// <summary>The injected incidents; complete before generation starts.</summary>
    public GroundTruth Truth => _truth;

    internal PostKind KindAt(int index) => _plans[index].Kind;

    /// <summary>The stream, in non-decreasing event-time order; finite and deterministic per seed.</summary>
    public IEnumerable<SimulatedPost> Generate()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        var sb = new StringBuilder(256);
        using var writer = new Utf8JsonWriter(buffer, JsonOptions);
        var tags = new List<string>(4);
        for (var i = 0; i < _plans.Length; i++)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WritePost(writer, i, sb, tags);
            writer.Flush();
            yield return new SimulatedPost(ElectionDay.Start.AddSeconds(_plans[i].Time), buffer.WrittenSpan.ToArray());
        }
    }

    /// <summary>Writes posts as JSON Lines: one object per line, each followed by <c>\n</c>.</summary>
    public static void WriteJsonl(IEnumerable<SimulatedPost> posts, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(posts);
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var p in posts)
        {
            stream.Write(p.Json);
            stream.WriteByte((byte)'\n');
        }
        stream.Flush();
    }

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private void WritePost(Utf8JsonWriter w, int index, StringBuilder sb, List<string> tags)
    {
        ref readonly var p = ref _plans[index];
        ref readonly var a = ref _accounts[p.Account];
        var region = ElectionDay.Regions[p.Region];
        var rng = new SimRandom(p.TextSeed ^ 0x5DEECE66DUL);
        var textPlan = p.Link == LinkKind.Repost && p.Ref >= 0 ? _plans[p.Ref] : p;
        var text = p.Text ?? (p.Link == LinkKind.Repost && p.Ref >= 0 && _plans[p.Ref].Text is { } t ? t : null);
        tags.Clear();
        if (text is null)
        {
            sb.Clear();
            Render(sb, textPlan, tags);
            text = sb.ToString();
        }
        else if (p.Kind is PostKind.Campaign or PostKind.Decoy) tags.Add(Phrasebook.CampaignHashtag);

        w.WriteStartObject();
        w.WriteString("id"u8, PostId(index));
        w.WriteString("platform"u8, "sim"u8);
        Span<byte> time = stackalloc byte[20];
        FormatTime(ElectionDay.Start.AddSeconds(p.Time).UtcDateTime, time);
        w.WriteString("created_at"u8, time);
        w.WriteStartObject("author"u8);
        w.WriteString("id"u8, a.Id);
        w.WriteString("handle"u8, a.Handle);
        w.WriteNumber("followers"u8, a.Followers);
        w.WriteEndObject();
        w.WriteString("text"u8, text);
        w.WriteString("lang"u8, Phrasebook.LangCodes[(int)textPlan.Lang]);
        w.WriteStartObject("geo"u8);
        w.WriteString("country"u8, region.Country);
        w.WriteString("region"u8, region.Name);
        w.WriteEndObject();
        WriteRef(w, "reply_to"u8, p.Link == LinkKind.Reply ? p.Ref : -1);
        WriteRef(w, "repost_of"u8, p.Link == LinkKind.Repost ? p.Ref : -1);
        WriteRef(w, "quote_of"u8, p.Link == LinkKind.Quote ? p.Ref : -1);
        w.WriteStartArray("mentions"u8);
        if (p.Link is LinkKind.Reply or LinkKind.Quote && p.Ref >= 0) w.WriteStringValue(_accounts[_plans[p.Ref].Account].Id);
        if (p.Text is null && rng.Chance(0.04))
        {
            var inf = _influencersByCountry[region.CountryIndex];
            var m = inf[rng.Next(inf.Length)];
            if (m != p.Account) w.WriteStringValue(_accounts[m].Id);
        }
        w.WriteEndArray();
        w.WriteStartArray("hashtags"u8);
        foreach (var tag in tags) w.WriteStringValue(tag);
        w.WriteEndArray();
        w.WriteStartArray("urls"u8);
        if (p.Text is null && rng.Chance(0.08))
            w.WriteStringValue(string.Create(CultureInfo.InvariantCulture, $"https://example.org/{region.Country.ToLowerInvariant()}/news/{rng.Next(1, 5000)}"));
        w.WriteEndArray();
        w.WriteStartArray("media"u8);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRef(Utf8JsonWriter w, ReadOnlySpan<byte> name, int index)
    {
        if (index < 0) w.WriteNull(name);
        else w.WriteString(name, PostId(index));
    }

    internal static string PostId(int index) => "sim:" + (index + 1).ToString(CultureInfo.InvariantCulture);


    /// <summary>RFC 3339 UTC with a Z, to the second: <c>2026-11-08T06:15:03Z</c>.</summary>
    private static void FormatTime(DateTime t, Span<byte> dest)
    {
        Two(dest, 0, t.Year / 100); Two(dest, 2, t.Year % 100); dest[4] = (byte)'-';
        Two(dest, 5, t.Month); dest[7] = (byte)'-'; Two(dest, 8, t.Day); dest[10] = (byte)'T';
        Two(dest, 11, t.Hour); dest[13] = (byte)':'; Two(dest, 14, t.Minute); dest[16] = (byte)':';
        Two(dest, 17, t.Second); dest[19] = (byte)'Z';

        static void Two(Span<byte> d, int at, int v)
        {
            d[at] = (byte)('0' + v / 10);
            d[at + 1] = (byte)('0' + v % 10);
        }
    }

    /// <summary>Renders a background post's text (and its hashtags) from its plan; deterministic per plan.</summary>
    private static void Render(StringBuilder sb, in Plan p, List<string> tags)
    {
        var rng = new SimRandom(p.TextSeed);
        var lang = (int)p.Lang;
        var region = ElectionDay.Regions[p.Region];
        var country = region.Country;
        var places = region.PlacesFor(p.Lang);
        var group = p.Target >= 0 ? Groups[p.Target] : null;
        switch (p.Kind)
        {
            case PostKind.Neutral:
            case PostKind.Decoy:
                Append(sb, rng.Pick(Phrasebook.Openers[lang]));
                Fill(sb, rng.Pick(Phrasebook.Bodies[lang]), ref rng, places, null, null, null, null);
                Append(sb, rng.Pick(Phrasebook.Closers[lang]));
                break;
            case PostKind.Identity:
                Append(sb, rng.Pick(Phrasebook.Openers[lang]));
                Fill(sb, rng.Pick(Phrasebook.IdentityBodies[lang]), ref rng, places, Phrasebook.Identity(p.Lang, country, group!), null, null, null);
                Append(sb, rng.Pick(Phrasebook.Closers[lang]));
                break;
            case PostKind.Offensive:
                Fill(sb, rng.Pick(Phrasebook.OffensiveBodies[lang]), ref rng, places, null, null, null, rng.Pick(Phrasebook.Insults[lang]));
                break;
            default:
                {
                    var specific = Phrasebook.HatefulTerms(p.Lang, country, group!);
                    var term = specific.Length > 0 && rng.Chance(0.75) ? rng.Pick(specific) : rng.Pick(Phrasebook.Dehumanising[lang]);
                    var incite = rng.Pick(Phrasebook.Incitements[lang]);
                    Fill(sb, rng.Pick(Phrasebook.HateBodies[lang]), ref rng, places, Phrasebook.Identity(p.Lang, country, group!), term, incite, null);
                    if (rng.Chance(p.Kind == PostKind.Spike ? 0.4 : 0.3))
                    {
                        sb.Append(' ');
                        Fill(sb, rng.Pick(Phrasebook.IncitementTails[lang]), ref rng, places, null, null, incite, null);
                    }
                    break;
                }
        }
        if (p.Kind == PostKind.Decoy) tags.Add(Phrasebook.CampaignHashtag);
        else if (rng.Chance(0.25))
        {
            var countryTags = Phrasebook.CountryHashtags[region.CountryIndex];
            tags.Add(rng.Pick(countryTags));
            if (rng.Chance(0.2)) { var second = rng.Pick(countryTags); if (second != tags[0]) tags.Add(second); }
        }
        foreach (var tag in tags) sb.Append(" #").Append(tag);
    }

    private static void Append(StringBuilder sb, string part)
    {
        if (part.Length == 0) return;
        // Sentence punctuation sticks to the word before it.
        if (sb.Length > 0 && part is not ("." or "။")) sb.Append(' ');
        sb.Append(part);
    }

    /// <summary>Appends a template with its placeholders filled.</summary>
    internal static void Fill(StringBuilder sb, string template, ref SimRandom rng, string[] places, string? g, string? h, string? i, string? o, string? t = null)
    {
        if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
        for (var k = 0; k < template.Length; k++)
        {
            var c = template[k];
            if (c == '{' && k + 2 < template.Length && template[k + 2] == '}')
            {
                switch (template[k + 1])
                {
                    case 'P': sb.Append(rng.Pick(places)); break;
                    case 'N': sb.Append(rng.Next(2, 400)); break;
                    case 'G': sb.Append(g); break;
                    case 'H': sb.Append(h); break;
                    case 'I': sb.Append(i); break;
                    case 'O': sb.Append(o); break;
                    case 'T': sb.Append(t); break;
                    default: sb.Append(c).Append(template[k + 1]).Append('}'); break;
                }
                k += 2;
            }
            else sb.Append(c);
        }
    }

    internal static readonly string[] Groups =
    [
        "muslims", "rohingya", "christians", "hindus", "tamils", "sinhalese", "kikuyu", "luo", "kalenjin", "women",
        "journalists", "election_officials", "lgbtq", "immigrants", "black_people", "disabled_people", "jews",
    ];

    internal static sbyte GroupIndex(string g) => (sbyte)Array.IndexOf(Groups, g);

    internal enum LinkKind : byte { None, Reply, Repost, Quote }

    internal enum AccountType : byte { Ordinary, Influential, Cluster }

    internal struct Account
    {
        public short Region;
        public AccountType Type;
        public int Followers;
        public string Handle;
        public string Id;         // "u:<n>", numbered in a shuffled order so a role does not show in its id
    }

    internal struct Plan
    {
        public int Time;          // seconds since the scenario start
        public int Seq;           // creation order: the sort tie-break
        public int Account;
        public int Ref;           // before sorting: Seq of the referenced plan; after: its index (-1: none)
        public uint TextSeed;
        public short Region;
        public Lang Lang;
        public PostKind Kind;
        public LinkKind Link;
        public sbyte Target;
        public sbyte Incident;    // index into the incidents, -1 for background
        public string? Text;      // fixed text of incident posts
    }

    /// <summary>Plans the whole stream: accounts, background traffic, incidents, order, links.</summary>
    private sealed class Planner
    {
        private const int Drop = 0, Spike = 1, Incite = 2, Campaign = 3, Emerging = 4;
        private static readonly string[] IncidentKinds =
            [AlertKinds.VolumeDrop, AlertKinds.VolumeSpike, AlertKinds.Incitement, AlertKinds.CoordinatedCampaign, AlertKinds.EmergingTerm];

        // Incident timing, in seconds from the start (2026-11-07T00:00Z). Local times in the comments.
        private const int DropOnset = 4 * 3600, DropEnd = 7 * 3600;                    // Kachin 10:30-13:30 MMT, day 1
        private const int SpikeOnset = 27 * 3600 + 1800, SpikeEnd = SpikeOnset + 3600;   // Rakhine 10:00-11:00 MMT, polling day
        private const int InciteOnset = 30 * 3600 + 1800;                                // Eastern 12:00 SLT, polling day
        private const int CampaignOnset = 33 * 3600, CampaignEnd = CampaignOnset + 5400; // Nairobi 12:00-13:30 EAT
        private const int EmergingOnset = 36 * 3600, EmergingEnd = EmergingOnset + 4 * 3600; // KE 15:00-19:00 EAT
        private const double DropFactor = 0.03;

        private readonly int _seed;
        private readonly int _posts;
        private readonly double _scale;
        private SimRandom _rng;
        private readonly List<Plan> _list = [];
        private readonly List<Account> _accounts = [];
        private int[][] _pool = [];
        private int[][] _influencersByRegion = [];
        private readonly List<int> _cluster = [];
        private int _inciter = -1;

        public Planner(int seed, int posts)
        {
            _seed = seed;
            _posts = posts;
            _scale = posts / (double)ElectionDay.DefaultPosts;
            _rng = new SimRandom((ulong)(uint)seed);
        }

        public Plan[] Plans { get; private set; } = [];
        public Account[] Accounts { get; private set; } = [];
        public int[][] InfluencersByCountry { get; private set; } = [];

        public void Run()
        {
            CreateAccounts();
            // Incidents first: their size is fixed by detectability, the background fills the rest of the volume.
            PlanSpike();
            PlanIncitement();
            PlanCampaign();
            PlanEmerging();
            PlanClusterBackground();
            PlanBackground(Math.Max(0, _posts - _list.Count));
            Order();
            LinkPosts();
        }

        private void CreateAccounts()
        {
            var regions = ElectionDay.Regions;
            var ordinary = (int)Math.Clamp(20_000 * _scale, 3_000, 20_000);
            var pools = new List<int>[regions.Length];
            for (var r = 0; r < regions.Length; r++) pools[r] = [];
            var shares = regions.Select(r => r.Share).ToArray();
            for (var i = 0; i < ordinary; i++)
            {
                var r = _rng.Weighted(shares);
                // Log-normal followers: median ~150, a long tail, capped below the influential range (10k, where the
                // alert rules treat an account as influential; influencers here have 50k or more).
                var followers = (int)Math.Clamp(Math.Exp(Math.Log(150) + 1.4 * _rng.Normal()), 0, 9_000);
                pools[r].Add(Add((short)r, AccountType.Ordinary, followers, Handle(regions[r].CountryIndex, false)));
            }
            _pool = pools.Select(p => p.ToArray()).ToArray();

            var infByRegion = new List<int>[regions.Length];
            for (var r = 0; r < regions.Length; r++) infByRegion[r] = [];
            var infByCountry = new List<int>[ElectionDay.Countries.Length];
            for (var c = 0; c < infByCountry.Length; c++) infByCountry[c] = [];
            for (var i = 0; i < 30; i++)
            {
                var c = i % 3;
                var inCountry = Enumerable.Range(0, regions.Length).Where(r => regions[r].CountryIndex == c).ToArray();
                var r = inCountry[i / 3 % inCountry.Length];
                // Log-uniform between 50k and 2M followers.
                var followers = (int)Math.Exp(Math.Log(50_000) + _rng.NextDouble() * (Math.Log(2_000_000) - Math.Log(50_000)));
                var id = Add((short)r, AccountType.Influential, followers, Handle(c, true));
                infByRegion[r].Add(id);
                infByCountry[c].Add(id);
            }
            _influencersByRegion = infByRegion.Select(x => x.ToArray()).ToArray();
            InfluencersByCountry = infByCountry.Select(x => x.ToArray()).ToArray();

            var eastern = ElectionDay.RegionIndex("Eastern");
            _inciter = _influencersByRegion[eastern][0];
            var inciter = _accounts[_inciter];
            inciter.Followers = Math.Max(inciter.Followers, 120_000 + _rng.Next(400_000));
            _accounts[_inciter] = inciter;

            var nairobi = (short)ElectionDay.RegionIndex("Nairobi");
            for (var i = 0; i < 25; i++)
                _cluster.Add(Add(nairobi, AccountType.Cluster, 40 + _rng.Next(900), ClusterHandle()));

            var numbers = new int[_accounts.Count];
            for (var i = 0; i < numbers.Length; i++) numbers[i] = i + 1;
            for (var i = numbers.Length - 1; i > 0; i--)
            {
                var j = _rng.Next(i + 1);
                (numbers[i], numbers[j]) = (numbers[j], numbers[i]);
            }
            for (var i = 0; i < numbers.Length; i++)
            {
                var a = _accounts[i];
                a.Id = "u:" + numbers[i].ToString(CultureInfo.InvariantCulture);
                _accounts[i] = a;
            }
        }

        private int Add(short region, AccountType type, int followers, string handle)
        {
            _accounts.Add(new Account { Region = region, Type = type, Followers = followers, Handle = handle, Id = "" });
            return _accounts.Count - 1;
        }

        private static readonly string[][] Syllables =
        [
            ["aung", "kyaw", "min", "thu", "zaw", "htet", "naing", "myo", "win", "khin", "nyein", "phyo", "ye", "san"],
            ["nuwan", "kasun", "dilan", "sanda", "ruwan", "nimal", "priya", "kavi", "thar", "sel", "ari", "mali", "vin", "shan"],
            ["otieno", "wanj", "kip", "chep", "muth", "achi", "ngug", "odh", "kam", "nji", "wafu", "bara", "zawa", "tole"],
        ];

        private static readonly string[] InfluencerWords = ["news", "voice", "daily", "watch", "live", "times", "talk", "insider"];

        private string Handle(int country, bool influential)
        {
            var syl = Syllables[country];
            var sb = new StringBuilder(24);
            if (influential)
            {
                sb.Append(_rng.Pick(syl)).Append('_').Append(_rng.Pick(InfluencerWords));
                if (_rng.Chance(0.5)) sb.Append(_rng.Next(1, 99));
                return sb.ToString();
            }
            sb.Append(_rng.Pick(syl));
            if (_rng.Chance(0.6)) sb.Append(_rng.Chance(0.5) ? "_" : "").Append(_rng.Pick(syl));
            sb.Append(_rng.Next(1, 9999));
            return sb.ToString();
        }

        private static readonly string[] ClusterWords = ["sauti", "kweli", "nairobi", "taifa", "haki", "uzalendo", "mwananchi"];

        private string ClusterHandle() =>
            string.Create(CultureInfo.InvariantCulture, $"{_rng.Pick(ClusterWords)}_{_rng.Pick(ClusterWords)}{_rng.Next(10, 999)}");

        private int PickFromPool(int region, bool skewed)
        {
            var pool = _pool[region];
            if (!skewed) return pool[_rng.Next(pool.Length)];
            var u = _rng.NextDouble();
            return pool[Math.Min(pool.Length - 1, (int)(pool.Length * u * u))];
        }

        private Lang PickLang(RegionDef r) => r.Langs[_rng.Weighted(r.LangWeights)];

        private int AddPlan(int time, int account, short region, Lang lang, PostKind kind, sbyte target, int incident, string? text = null,
            LinkKind link = LinkKind.None, int refSeq = -1)
        {
            var seq = _list.Count;
            _list.Add(new Plan
            {
                Time = time, Seq = seq, Account = account, Region = region, Lang = lang, Kind = kind, Target = target,
                Incident = (sbyte)incident, Text = text, Link = link, Ref = refSeq, TextSeed = (uint)_rng.NextU64(),
            });
            return seq;
        }

        /// <summary>Expected background hateful posts per minute against a group in a region (the spike's baseline).</summary>
        private double BaselineHatePerMinute(int region, string group, int minute, double totalWeight, int background)
        {
            var r = ElectionDay.Regions[region];
            var groups = ElectionDay.HateGroups[r.CountryIndex];
            var weights = ElectionDay.HateGroupWeights[r.CountryIndex];
            var share = weights[Array.IndexOf(groups, group)] / weights.Sum();
            return background * ElectionDay.Weight(r, minute) / totalWeight * r.HateRate * share;
        }

        private void PlanSpike()
        {
            var rakhine = (short)ElectionDay.RegionIndex("Rakhine");
            var total = TotalWeight();
            var target = GroupIndex("rohingya");
            for (var m = SpikeOnset / 60; m < SpikeEnd / 60; m++)
            {
                // About 6 hateful posts a minute (at least ~5), and ten times the usual rate when the volume is large.
                var rate = Math.Max(6.0, 10 * BaselineHatePerMinute(rakhine, "rohingya", m, total, _posts));
                var n = Math.Max(3, _rng.Poisson(rate));
                for (var j = 0; j < n; j++)
                    AddPlan(m * 60 + _rng.Next(60), PickFromPool(rakhine, false), rakhine, Lang.My, PostKind.Spike, target, Spike);
            }
        }

        private void PlanIncitement()
        {
            var eastern = (short)ElectionDay.RegionIndex("Eastern");
            var place = ElectionDay.Regions[eastern].PlacesSi[1];
            var text = Phrasebook.IncitementText.Replace("{P}", place, StringComparison.Ordinal);
            var muslims = GroupIndex("muslims");
            var original = AddPlan(InciteOnset, _inciter, eastern, Lang.Si, PostKind.Incitement, muslims, Incite, text);
            var lk = Enumerable.Range(0, ElectionDay.Regions.Length).Where(r => ElectionDay.Regions[r].Country == "LK").ToArray();
            var used = new HashSet<int> { _inciter };
            for (var i = 0; i < 45; i++)
            {
                // Reposts decay after the post: most in the first quarter hour, none after an hour.
                var delay = 20 + (int)Math.Min(3500, -Math.Log(1 - _rng.NextDouble()) * 720);
                var region = _rng.Chance(0.6) ? eastern : (short)_rng.Pick(lk);
                int account;
                do account = PickFromPool(region, false); while (!used.Add(account));
                AddPlan(InciteOnset + delay, account, region, Lang.Si, PostKind.IncitementRepost, muslims, Incite, text, LinkKind.Repost, original);
            }
        }

        private void PlanCampaign()
        {
            var nairobi = (short)ElectionDay.RegionIndex("Nairobi");
            var kikuyu = GroupIndex("kikuyu");
            for (var wave = 0; wave < Phrasebook.CampaignWaves.Length; wave++)
            {
                var variants = Paraphrase.Variants(Phrasebook.CampaignWaves[wave], _cluster.Count, ref _rng);
                var start = CampaignOnset + wave * 15 * 60;
                for (var i = 0; i < _cluster.Count; i++)
                {
                    var text = variants[i] + " #" + Phrasebook.CampaignHashtag;
                    AddPlan(start + _rng.Next(91), _cluster[i], nairobi, Lang.Sw, PostKind.Campaign, kikuyu, Campaign, text);
                }
            }
            // The decoy: organic accounts on the same hashtag, varied texts, spread over the period.
            var decoys = new HashSet<int>();
            while (decoys.Count < 40) decoys.Add(PickFromPool(nairobi, false));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var sb = new StringBuilder(200);
            var tags = new List<string>(1);
            foreach (var account in decoys.Order())
            {
                var posts = 1 + _rng.Next(2);
                for (var k = 0; k < posts; k++)
                {
                    var lang = _rng.Chance(0.6) ? Lang.Sw : Lang.En;
                    string text;
                    Plan probe;
                    do
                    {
                        probe = new Plan { Region = nairobi, Lang = lang, Kind = PostKind.Decoy, Target = -1, TextSeed = (uint)_rng.NextU64() };
                        sb.Clear();
                        tags.Clear();
                        Render(sb, probe, tags);
                        text = sb.ToString();
                    }
                    while (!seen.Add(text));
                    // Half of the decoy posts land within three minutes of a wave, where they are hardest to tell apart.
                    var time = _rng.Chance(0.5)
                        ? Math.Max(CampaignOnset, CampaignOnset + _rng.Next(Phrasebook.CampaignWaves.Length) * 15 * 60 + _rng.Next(-180, 181))
                        : CampaignOnset + _rng.Next(CampaignEnd - CampaignOnset);
                    AddPlan(time, account, nairobi, lang, PostKind.Decoy, -1, Campaign, text);
                }
            }
        }

        private void PlanEmerging()
        {
            var ke = Enumerable.Range(0, ElectionDay.Regions.Length)
                .Where(r => ElectionDay.Regions[r].Country == "KE" && ElectionDay.Regions[r].Name != "Nairobi").ToArray();
            var candidates = new List<int>();
            var seen = new HashSet<int>();
            while (candidates.Count < 50)
            {
                var a = PickFromPool(_rng.Pick(ke), false);
                if (seen.Add(a)) candidates.Add(a);
            }
            int[] perHour = [6, 14, 24, 30];
            var luo = GroupIndex("luo");
            var sb = new StringBuilder(160);
            void Post(int time, int account)
            {
                var region = _accounts[account].Region;
                sb.Clear();
                Fill(sb, _rng.Pick(Phrasebook.EmergingBodies), ref _rng, ElectionDay.Regions[region].Places,
                    Phrasebook.Identity(Lang.Sw, "KE", "luo"), null, null, null, Phrasebook.EmergingTerm);
                AddPlan(time, account, region, Lang.Sw, PostKind.Emerging, luo, Emerging, sb.ToString());
            }
            // The coinage catches on: a first post at the onset, picked up by a dozen accounts over the next five
            // minutes (each writing it in their own sentence), then a use that grows over four hours.
            Post(EmergingOnset, candidates[0]);
            for (var j = 1; j < 12; j++) Post(EmergingOnset + 10 + _rng.Next(290), candidates[j]);
            for (var h = 0; h < perHour.Length; h++)
                for (var j = 0; j < perHour[h]; j++)
                    Post(EmergingOnset + h * 3600 + _rng.Next(3600), candidates[_rng.Next(candidates.Count)]);
        }

        private void PlanClusterBackground()
        {
            // The cluster's accounts also chat like everyone else, a few times over the three days.
            foreach (var account in _cluster)
            {
                var n = 2 + _rng.Next(4);
                for (var k = 0; k < n; k++)
                {
                    var t = _rng.Next(ElectionDay.Minutes * 60);
                    if (t >= CampaignOnset - 3600 && t < CampaignEnd + 3600) continue;
                    AddPlan(t, account, _accounts[account].Region, _rng.Chance(0.6) ? Lang.Sw : Lang.En, PostKind.Neutral, -1, -1);
                }
            }
        }

        private static double TotalWeight()
        {
            double total = 0;
            for (var r = 0; r < ElectionDay.Regions.Length; r++)
                for (var m = 0; m < ElectionDay.Minutes; m++) total += ElectionDay.Weight(ElectionDay.Regions[r], m) * DropAt(r, m);
            return total;
        }

        private static double DropAt(int region, int minute) =>
            region == KachinIndex && minute >= DropOnset / 60 && minute < DropEnd / 60 ? DropFactor : 1.0;

        private static readonly int KachinIndex = ElectionDay.RegionIndex("Kachin");

        private void PlanBackground(int count)
        {
            var regions = ElectionDay.Regions;
            var total = TotalWeight();
            for (var m = 0; m < ElectionDay.Minutes; m++)
            {
                for (var r = 0; r < regions.Length; r++)
                {
                    var region = regions[r];
                    var drop = DropAt(r, m);
                    var n = _rng.Poisson(count * ElectionDay.Weight(region, m) * drop / total);
                    for (var j = 0; j < n; j++) PlanBackgroundPost(m * 60 + _rng.Next(60), (short)r, drop < 1 ? Drop : -1);
                }
            }
        }

        private void PlanBackgroundPost(int time, short r, int incident)
        {
            var region = ElectionDay.Regions[r];
            var c = region.CountryIndex;
            var inf = _influencersByRegion[r];
            var influential = inf.Length > 0 && _rng.Chance(0.02);
            var account = influential ? _rng.Pick(inf) : PickFromPool(r, true);
            var lang = PickLang(region);
            var u = _rng.NextDouble();
            // Influential accounts (outlets, public figures) write no hate in the background: their one call to
            // violence is an injected incident, so the ground truth holds every influential incitement there is.
            if (influential && u < region.HateRate + OffensiveRate) u = region.HateRate + OffensiveRate + _rng.NextDouble() * (1 - region.HateRate - OffensiveRate);
            PostKind kind;
            sbyte target = -1;
            if (u < region.HateRate)
            {
                kind = PostKind.Hate;
                target = PickGroup(ElectionDay.HateGroups[c], ElectionDay.HateGroupWeights[c], lang, region.Country);
            }
            else if (u < region.HateRate + OffensiveRate) kind = PostKind.Offensive;
            else if (u < region.HateRate + OffensiveRate + IdentityRate)
            {
                kind = PostKind.Identity;
                target = PickGroup(ElectionDay.IdentityGroups[c], null, lang, region.Country);
            }
            else kind = PostKind.Neutral;
            if (target < 0 && kind is PostKind.Hate or PostKind.Identity) kind = PostKind.Neutral;
            var l = _rng.NextDouble();
            var link = l < ReplyRate ? LinkKind.Reply
                : l < ReplyRate + RepostRate ? LinkKind.Repost
                : l < ReplyRate + RepostRate + QuoteRate ? LinkKind.Quote
                : LinkKind.None;
            AddPlan(time, account, r, lang, kind, target, incident, link: link);
        }

        /// <summary>A group the language can name; -1 when none of a few tries can.</summary>
        private sbyte PickGroup(string[] groups, double[]? weights, Lang lang, string country)
        {
            for (var tries = 0; tries < 8; tries++)
            {
                var g = groups[weights is null ? _rng.Next(groups.Length) : _rng.Weighted(weights)];
                if (Phrasebook.Identity(lang, country, g) is not null) return GroupIndex(g);
            }
            return -1;
        }

        private void Order()
        {
            var plans = _list.ToArray();
            var keys = new long[plans.Length];
            for (var i = 0; i < plans.Length; i++) keys[i] = ((long)plans[i].Time << 32) | (uint)plans[i].Seq;
            Array.Sort(keys, plans);
            var indexOfSeq = new int[plans.Length];
            for (var i = 0; i < plans.Length; i++) indexOfSeq[plans[i].Seq] = i;
            for (var i = 0; i < plans.Length; i++)
                if (plans[i].Ref >= 0) plans[i].Ref = indexOfSeq[plans[i].Ref];
            Plans = plans;
            Accounts = [.. _accounts];
        }

        /// <summary>Replies, reposts and quotes point at recent background posts of the same region.</summary>
        private void LinkPosts()
        {
            var plans = Plans;
            var rings = new int[ElectionDay.Regions.Length][];
            var counts = new int[rings.Length];
            for (var r = 0; r < rings.Length; r++) rings[r] = new int[RepostRing];
            for (var i = 0; i < plans.Length; i++)
            {
                ref var p = ref plans[i];
                if (p.Text is not null) continue;
                var ring = rings[p.Region];
                var n = Math.Min(counts[p.Region], RepostRing);
                if (p.Link != LinkKind.None)
                {
                    if (n == 0) p.Link = LinkKind.None;
                    else
                    {
                        p.Ref = ring[_rng.Next(n)];
                        if (p.Link == LinkKind.Repost && Accounts[p.Account].Type == AccountType.Influential && plans[p.Ref].Kind is not (PostKind.Neutral or PostKind.Identity))
                        {
                            // Influential accounts do not amplify background hate (see PlanBackgroundPost): a reply instead.
                            p.Link = LinkKind.Reply;
                        }
                        else if (p.Link == LinkKind.Repost)
                        {
                            // A repost carries the original's text, so it is what the original was.
                            ref readonly var o = ref plans[p.Ref];
                            p.Kind = o.Kind;
                            p.Target = o.Target;
                            p.Lang = o.Lang;
                        }
                    }
                }
                if (p.Link != LinkKind.Repost) ring[counts[p.Region]++ % RepostRing] = i;
            }
        }

        public GroundTruth BuildTruth(string scenario)
        {
            var posts = new List<string>[IncidentKinds.Length];
            var accounts = new List<string>[IncidentKinds.Length];
            var seenAccounts = new HashSet<int>[IncidentKinds.Length];
            var decoyPosts = new List<string>();
            var decoyAccounts = new List<string>();
            var seenDecoys = new HashSet<int>();
            var first = new int[IncidentKinds.Length];
            var last = new int[IncidentKinds.Length];
            for (var k = 0; k < IncidentKinds.Length; k++)
            {
                posts[k] = []; accounts[k] = []; seenAccounts[k] = []; first[k] = int.MaxValue; last[k] = int.MinValue;
            }
            // The inciter leads the incitement's accounts.
            seenAccounts[Incite].Add(_inciter);
            accounts[Incite].Add(_accounts[_inciter].Id);
            for (var i = 0; i < Plans.Length; i++)
            {
                ref readonly var p = ref Plans[i];
                if (p.Incident < 0) continue;
                if (p.Kind == PostKind.Decoy)
                {
                    decoyPosts.Add(PostId(i));
                    if (seenDecoys.Add(p.Account)) decoyAccounts.Add(_accounts[p.Account].Id);
                    continue;
                }
                var k = p.Incident;
                posts[k].Add(PostId(i));
                if (seenAccounts[k].Add(p.Account)) accounts[k].Add(_accounts[p.Account].Id);
                first[k] = Math.Min(first[k], p.Time);
                last[k] = Math.Max(last[k], p.Time);
            }
            var start = ElectionDay.Start;
            Incident Make(int k, Scope scope, int onset, int end, string description) => new()
            {
                Id = "inc-" + (k + 1).ToString(CultureInfo.InvariantCulture),
                Kind = IncidentKinds[k],
                Scope = scope,
                Onset = start.AddSeconds(onset),
                End = start.AddSeconds(end),
                Accounts = accounts[k],
                PostIds = posts[k],
                DecoyAccounts = k == Campaign ? decoyAccounts : [],
                DecoyPostIds = k == Campaign ? decoyPosts : [],
                Description = description,
            };
            var incidents = new List<Incident>
            {
                Make(Drop, new("MM", "Kachin", null, null, null), DropOnset, DropEnd,
                    "Traffic from Kachin falls to about 3% for three hours (a shutdown)."),
                Make(Spike, new("MM", "Rakhine", "rohingya", "my", null), SpikeOnset, SpikeEnd,
                    "A one-hour spike of hateful posts against Rohingya in Rakhine by many ordinary accounts."),
                Make(Incite, new("LK", "Eastern", "muslims", "si", null), InciteOnset, Math.Max(InciteOnset, last[Incite]),
                    "An influential account calls for Muslims to be driven out in the Eastern Province, followed by reposts."),
                Make(Campaign, new("KE", "Nairobi", "kikuyu", "sw", null), CampaignOnset, CampaignEnd,
                    "A cluster of accounts posts paraphrases of one hateful message against Kikuyu in six waves, with a decoy burst on the same hashtag."),
                Make(Emerging, new("KE", null, "luo", "sw", Phrasebook.EmergingTerm), EmergingOnset, EmergingEnd,
                    "A new coded term for Luo appears in hateful posts and grows over four hours."),
            };
            return new GroundTruth
            {
                Scenario = scenario,
                Seed = _seed,
                Posts = Plans.Length,
                Start = ElectionDay.Start,
                End = ElectionDay.End,
                Incidents = incidents,
            };
        }
    }
}
