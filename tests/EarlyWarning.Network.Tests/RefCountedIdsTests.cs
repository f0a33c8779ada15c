using EarlyWarning.Network.Coordination;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Tests;

/// <summary>Ids for strings in use: checked against a model of use counts through random acquires and releases.</summary>
public sealed class RefCountedIdsTests
{
    [Fact]
    public void A_string_keeps_one_id_while_in_use_and_ids_stay_below_the_most_in_use_at_once()
    {
        var ids = new RefCountedIds();
        var rng = new Random(5);
        var held = new List<(string Name, int Id)>();
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var mostInUse = 0;
        for (var step = 0; step < 20_000; step++)
        {
            if (held.Count > 0 && rng.Next(2) == 0)
            {
                var at = rng.Next(held.Count);
                var (name, id) = held[at];
                held[at] = held[^1];
                held.RemoveAt(held.Count - 1);
                ids.Release(id);
                if (--uses[name] == 0)
                {
                    uses.Remove(name);
                    idOf.Remove(name);
                    Assert.Null(ids.Name(id));
                    Assert.Equal(0, ids.Uses(id));
                }
            }
            else
            {
                var name = "k" + rng.Next(300);
                var id = ids.Acquire(name);
                if (idOf.TryGetValue(name, out var known)) Assert.Equal(known, id);
                else Assert.DoesNotContain(id, idOf.Values); // a new string never gets an id in use
                idOf[name] = id;
                uses[name] = uses.GetValueOrDefault(name) + 1;
                held.Add((name, id));
                Assert.Equal(name, ids.Name(id));
                Assert.Equal(uses[name], ids.Uses(id));
            }
            Assert.Equal(uses.Count, ids.Count);
            mostInUse = Math.Max(mostInUse, uses.Count);
            Assert.True(ids.Bound <= mostInUse, $"ids reach {ids.Bound} with at most {mostInUse} strings in use at once");
        }
        Assert.True(mostInUse > 100);
    }

    [Fact]
    public void Releasing_a_free_id_is_an_error_not_a_corrupt_count()
    {
        var ids = new RefCountedIds();
        var id = ids.Acquire("a");
        ids.Release(id);
        Assert.Throws<InvalidOperationException>(() => ids.Release(id));
        Assert.Equal(0, ids.Count);
    }

    [Fact]
    public void The_detector_gives_back_the_ids_of_content_keys_when_their_posts_leave()
    {
        var o = new NetworkOptions();
        var d = new CoordinationDetector(o);
        var horizon = (long)o.CampaignHorizon.TotalMilliseconds;
        for (var i = 0; i < 500; i++)
        {
            string[] keys = i % 7 == 0 ? [] : ["u:" + (i % 40), "t:" + (i % 13), "u:" + (i % 40)]; // a repeated key too
            d.AddPost(new PostRecord("p" + i, "acct" + (i % 25), i * 1_000L, keys, null, null, null, false, 0, []));
        }
        Assert.Equal(40 + 13, d.KeyIdCount);
        // Posts before second 250 leave the horizon; their keys' ids go once no remaining post carries them.
        d.Detect(horizon + 250_000, []);
        var remaining = Enumerable.Range(250, 250).Where(i => i % 7 != 0)
            .SelectMany(i => new[] { "u:" + (i % 40), "t:" + (i % 13) }).Distinct().Count();
        Assert.Equal(250, d.RecentCount);
        Assert.Equal(remaining, d.KeyIdCount);
        d.Detect(horizon + 600_000, []);
        Assert.Equal(0, d.RecentCount);
        Assert.Equal(0, d.KeyIdCount);
    }
}
