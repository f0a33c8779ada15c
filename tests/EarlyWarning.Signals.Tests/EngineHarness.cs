using EarlyWarning.Core.Alerts;
using EarlyWarning.Core.Posts;
using EarlyWarning.Core.Stores;
using EarlyWarning.Signals.Engine;

namespace EarlyWarning.Signals.Tests;

/// <summary>Feeds an engine, drains it regularly, and keeps the latest version of every alert by id.</summary>
internal sealed class EngineHarness(SignalOptions? options = null)
{
    public SignalEngine Engine { get; private set; } = new(options ?? new SignalOptions());
    public Dictionary<string, Alert> Alerts { get; } = new(StringComparer.Ordinal);
    public List<Alert> Versions { get; } = [];
    public List<SeriesPoint> Aggregates { get; } = [];
    public long Fed { get; private set; }

    public void Feed(IEnumerable<PostEnvelope> posts)
    {
        foreach (var p in posts)
        {
            Engine.Observe(p);
            if (++Fed % 500 == 0) Drain();
        }
        Drain();
    }

    public void Finish()
    {
        Engine.Flush();
        Drain();
    }

    public void Drain()
    {
        var a = new List<Alert>();
        Engine.Drain(a, Aggregates);
        foreach (var x in a) { Alerts[x.Id] = x; Versions.Add(x); }
    }

    public void Replace(SignalEngine engine) => Engine = engine;

    public List<Alert> Of(string kind) => Alerts.Values.Where(a => a.Kind == kind).OrderBy(a => a.WindowStart).ToList();
}

/// <summary>Background streams: Poisson traffic and hateful posts per region and target group with a diurnal curve.</summary>
internal static class Streams
{
    public static readonly DateTimeOffset Start = new(2026, 11, 7, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Volume factor by hour of day: low at night, peak in the afternoon (0.3 .. 1.7).</summary>
    public static double Diurnal(DateTimeOffset t) => 1 + 0.7 * Math.Sin(2 * Math.PI * (t.UtcDateTime.TimeOfDay.TotalHours - 8) / 24);

    public sealed record Region(string Country, string Name, string[] Targets);

    public static readonly Region[] Myanmar =
    [
        new("MM", "Rakhine", ["rohingya", "muslims"]),
        new("MM", "Yangon", ["rohingya", "muslims"]),
        new("MM", "Mandalay", ["muslims", "journalists"]),
    ];

    public static readonly Region[] Kenya =
    [
        new("KE", "Nairobi", ["kikuyu", "luo"]),
        new("KE", "Mombasa", ["luo", "election_officials"]),
        new("KE", "Kisumu", ["kikuyu", "women"]),
    ];

    /// <summary>
    /// Posts minute by minute in time order. <paramref name="traffic"/> is all posts per minute per region (a share of
    /// them hateful per target by <paramref name="hateful"/>); both are multiplied by the diurnal factor.
    /// <paramref name="extra"/> adds injected posts for a minute; <paramref name="keep"/> can silence a region.
    /// </summary>
    public static IEnumerable<PostEnvelope> Background(int seed, DateTimeOffset from, int minutes, Region[] regions,
        double traffic = 12, double hateful = 0.15, Func<DateTimeOffset, IEnumerable<PostEnvelope>>? extra = null,
        Func<Region, DateTimeOffset, bool>? keep = null)
    {
        var rng = new Random(seed);
        var batch = new List<PostEnvelope>();
        for (var m = 0; m < minutes; m++)
        {
            var t0 = from.AddMinutes(m);
            var f = Diurnal(t0);
            batch.Clear();
            foreach (var r in regions)
            {
                if (keep is not null && !keep(r, t0)) continue;
                var n = Synthetic.Poisson(rng, traffic * f);
                for (var i = 0; i < n; i++)
                    batch.Add(Synthetic.Post(t0.AddSeconds(rng.Next(60)), r.Country, r.Name, author: $"u:{r.Name}:{rng.Next(400)}"));
                foreach (var g in r.Targets)
                {
                    var h = Synthetic.Poisson(rng, hateful * f);
                    for (var i = 0; i < h; i++)
                        batch.Add(Synthetic.Post(t0.AddSeconds(rng.Next(60)), r.Country, r.Name, Labels.Hate, g,
                            author: $"u:{r.Name}:{rng.Next(400)}", followers: rng.Next(50, 3000)));
                }
            }
            if (extra is not null) batch.AddRange(extra(t0));
            batch.Sort((a, b) => a.Post.CreatedAt.CompareTo(b.Post.CreatedAt));
            foreach (var p in batch) yield return p;
        }
    }
}
