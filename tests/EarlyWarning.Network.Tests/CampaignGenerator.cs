using EarlyWarning.Core.Posts;

namespace EarlyWarning.Network.Tests;

/// <summary>A generated stream with its ground truth.</summary>
internal sealed record GeneratedStream(List<PostEnvelope> Posts, HashSet<string> Coordinated, HashSet<string> Decoys, HashSet<string> Background);

/// <summary>
/// A realistic coordinated campaign for tests (neutral placeholder words, no real text): 20-30 accounts post a
/// paraphrase (1-3 of 12 words swapped) of one message per wave with the same hashtag within 0-90 s, in several waves
/// over an hour; 40 organic decoy accounts post different texts on the same hashtag in bursts around the same
/// times; background accounts chat, reply, mention, repost and share a few popular links at random moments.
/// </summary>
internal static class CampaignGenerator
{
    private const int Vocabulary = 3000;
    private const string Hashtag = "pollingday";

    public static GeneratedStream Generate(int seed, int waves = 5, int backgroundAccounts = 150, int backgroundPosts = 2500)
    {
        var rng = new Random(seed);
        var posts = new List<(DateTimeOffset At, PostEnvelope Post)>();
        var n = 0;
        string NextId() => $"sim:{seed}:{n++}";
        string Word() => "w" + rng.Next(Vocabulary).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string Account(string kind, int i) => $"p_{kind}{seed:x2}{i:x4}";
        var start = Posts.T0;

        // Campaign.
        var coordinated = new HashSet<string>();
        var campaignSize = 20 + rng.Next(11);
        for (var i = 0; i < campaignSize; i++) coordinated.Add(Account("c", i));
        var waveTimes = new List<DateTimeOffset>();
        for (var w = 0; w < waves; w++)
        {
            var waveAt = start.AddMinutes(5 + (w * 12) + rng.NextDouble() * 2);
            waveTimes.Add(waveAt);
            var message = Enumerable.Range(0, 12).Select(_ => Word()).ToArray();
            foreach (var acc in coordinated.Order())
            {
                if (rng.NextDouble() < 0.1) continue; // not every account joins every wave
                var words = (string[])message.Clone();
                var swaps = 1 + rng.Next(3);
                for (var s = 0; s < swaps; s++) words[rng.Next(words.Length)] = Word();
                var at = waveAt.AddSeconds(rng.NextDouble() * 90);
                posts.Add((at, Posts.Make(NextId(), acc, at, string.Join(' ', words), hashtags: [Hashtag], country: "MM",
                    region: "Rakhine", label: Labels.Hate, target: "rohingya", incitement: rng.NextDouble() < 0.3 ? 0.8f : 0.1f,
                    followers: 50 + rng.Next(500))));
            }
        }

        // Decoy: organic accounts on the same hashtag, bursting around the waves, each with its own words.
        var decoys = new HashSet<string>();
        string[] topic = ["w1", "w2", "w3"];
        for (var i = 0; i < 40; i++)
        {
            var acc = Account("d", i);
            decoys.Add(acc);
            var count = 4 + rng.Next(5);
            for (var k = 0; k < count; k++)
            {
                var near = waveTimes.Count > 0 ? waveTimes[rng.Next(waveTimes.Count)] : start.AddSeconds(rng.NextDouble() * 4200);
                var at = rng.NextDouble() < 0.6 ? near.AddSeconds(rng.NextDouble() * 180 - 30) : start.AddSeconds(rng.NextDouble() * 4200);
                var words = topic.Concat(Enumerable.Range(0, 9).Select(_ => Word())).OrderBy(_ => rng.Next()).ToArray();
                posts.Add((at, Posts.Make(NextId(), acc, at, string.Join(' ', words), hashtags: [Hashtag], country: "MM",
                    region: rng.NextDouble() < 0.5 ? "Rakhine" : "Yangon", label: rng.NextDouble() < 0.2 ? Labels.Offensive : Labels.None)));
            }
        }

        // Background: conversation, reposts and a few popular links shared at random moments.
        var background = new HashSet<string>();
        for (var i = 0; i < backgroundAccounts; i++) background.Add(Account("b", i));
        var bg = background.Order().ToArray();
        string[] popular = ["https://news.example/a", "https://news.example/b", "https://news.example/c", "https://video.example/d"];
        var recent = new List<(string Id, string Author)>();
        var times = Enumerable.Range(0, backgroundPosts).Select(_ => start.AddSeconds(rng.NextDouble() * 4500)).Order().ToList();
        foreach (var at in times)
        {
            var acc = bg[rng.Next(bg.Length)];
            var id = NextId();
            var roll = rng.NextDouble();
            var text = string.Join(' ', Enumerable.Range(0, 8 + rng.Next(8)).Select(_ => Word()));
            PostEnvelope p;
            if (roll < 0.1 && recent.Count > 0)
            {
                var parent = recent[rng.Next(recent.Count)];
                p = Posts.Make(id, acc, at, text, replyTo: parent.Id, country: "KE", region: "Nairobi");
            }
            else if (roll < 0.2 && recent.Count > 0)
            {
                var parent = recent[rng.Next(recent.Count)];
                p = Posts.Make(id, acc, at, "rt " + parent.Id, repostOf: parent.Id, country: "KE", region: "Nairobi");
            }
            else if (roll < 0.3)
            {
                p = Posts.Make(id, acc, at, text, mentions: [bg[rng.Next(bg.Length)]], country: "LK", region: "Western");
            }
            else if (roll < 0.6)
            {
                p = Posts.Make(id, acc, at, text, urls: [popular[rng.Next(popular.Length)]], country: "LK", region: "Western",
                    label: rng.NextDouble() < 0.1 ? Labels.Hate : Labels.None);
            }
            else
            {
                p = Posts.Make(id, acc, at, text, hashtags: rng.NextDouble() < 0.2 ? [Hashtag] : [], country: "MM", region: "Yangon");
            }
            posts.Add((at, p));
            recent.Add((id, acc));
            if (recent.Count > 200) recent.RemoveAt(0);
        }

        var ordered = posts.OrderBy(x => x.At).ThenBy(x => x.Post.Post.Id, StringComparer.Ordinal).Select(x => x.Post).ToList();
        return new GeneratedStream(ordered, coordinated, decoys, background);
    }
}
