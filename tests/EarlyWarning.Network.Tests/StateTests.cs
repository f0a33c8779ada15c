using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Network.Tests;

public sealed class StateTests
{
    [Fact]
    public void Saved_state_restores_graph_post_index_and_open_campaigns()
    {
        var stream = CampaignGenerator.Generate(21);
        var half = stream.Posts.Count / 2;

        var whole = new NetworkEngine(new NetworkOptions());
        var wholeSignals = new List<Signal>();
        foreach (var p in stream.Posts) whole.Observe(p);
        whole.Flush();
        whole.DrainSignals(wholeSignals);

        var first = new NetworkEngine(new NetworkOptions());
        var signals = new List<Signal>();
        foreach (var p in stream.Posts.Take(half)) first.Observe(p);
        first.DrainSignals(signals);
        var blob = first.SaveState();

        var second = new NetworkEngine(new NetworkOptions());
        second.LoadState(blob);
        Assert.Equal(first.Graph.VertexCount, second.Graph.VertexCount);
        Assert.Equal(first.Graph.EdgeCount, second.Graph.EdgeCount);
        Assert.Equal(first.PostIndexCount, second.PostIndexCount);
        Assert.Equal(first.Now, second.Now);
        var s1 = first.Snapshot(first.Now!.Value);
        var s2 = second.Snapshot(second.Now!.Value);
        Assert.Equal(s1.Accounts.Select(a => (a.Account, a.Posts, a.FlaggedPosts, a.Community)), s2.Accounts.Select(a => (a.Account, a.Posts, a.FlaggedPosts, a.Community)));
        Assert.Equal(blob, second.SaveState());

        foreach (var p in stream.Posts.Skip(half)) second.Observe(p);
        second.Flush();
        second.DrainSignals(signals);

        var expected = wholeSignals.Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        var actual = signals.Where(s => s.Kind == AlertKinds.CoordinatedCampaign).ToList();
        Assert.NotEmpty(expected);
        // Same campaign identity (window start) and the same accounts at the end.
        Assert.Equal(expected.Select(s => s.WindowStart).Distinct(), actual.Select(s => s.WindowStart).Distinct());
        Assert.Equal(expected[^1].Evidence.Accounts, actual[^1].Evidence.Accounts);
    }

    [Fact]
    public void A_captured_state_encodes_to_the_bytes_of_that_moment_after_the_engine_went_on()
    {
        // The pipeline captures the state while it holds the engine and encodes it on another thread while the engine
        // observes the next posts: the bytes must be those of the capture, not a mix with later changes. Encoding
        // after the engine moved on (rather than racing it) makes any read of live data show.
        var stream = CampaignGenerator.Generate(21);
        var half = stream.Posts.Count / 2;
        var e = new NetworkEngine(new NetworkOptions());
        foreach (var p in stream.Posts.Take(half)) e.Observe(p);
        var atCapture = e.SaveState();
        var indexed = e.PostIndexCount;
        var capture = e.CaptureState();
        foreach (var p in stream.Posts.Skip(half)) e.Observe(p);
        Assert.Equal(atCapture, capture.Encode());
        var afterwards = e.CaptureState().Encode();
        Assert.NotEqual(atCapture, afterwards); // the engine did move on (edges, post index, pairs)
        Assert.Equal(afterwards, e.SaveState());
        Assert.Throws<InvalidOperationException>(() => capture.Encode());
        var copy = new NetworkEngine(new NetworkOptions());
        copy.LoadState(atCapture);
        Assert.Equal(indexed, copy.PostIndexCount);
    }

    [Fact]
    public void Corrupt_state_is_refused_and_leaves_the_engine_unchanged()
    {
        var e = new NetworkEngine(new NetworkOptions());
        e.Observe(Posts.Make("1", "a", Posts.T0, mentions: ["b"]));
        var blob = e.SaveState();
        Assert.Throws<InvalidDataException>(() => e.LoadState(blob[..(blob.Length / 2)]));
        Assert.Throws<InvalidDataException>(() => e.LoadState([1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(2, e.Graph.VertexCount);
        Assert.Equal(1, e.Graph.EdgeCount);
    }

    [Fact]
    public void Saved_state_holds_no_stray_ascii_from_random_hashes()
    {
        // The store's privacy scan looks for account ids ("u:123") as ASCII anywhere in the file; random 64-bit LSH
        // band keys written as plain bytes would spell "u:" by chance (~4 times in this state). Written seven bits
        // per byte with the top bit set, they cannot.
        var rng = new Random(5);
        var e = new NetworkEngine(new NetworkOptions());
        for (var i = 0; i < 2000; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 12).Select(_ => "w" + rng.Next(5000)));
            e.Observe(Posts.Make("q" + i, "p_a" + (i % 300), Posts.T0.AddSeconds(i * 3), text));
        }
        var blob = e.SaveState();
        Assert.True(blob.Length > 200_000, $"state is only {blob.Length} bytes");
        var pairs = 0;
        for (var i = 0; i + 1 < blob.Length; i++) if (blob[i] == (byte)'u' && blob[i + 1] == (byte)':') pairs++;
        Assert.Equal(0, pairs);
        // And it still restores.
        var copy = new NetworkEngine(new NetworkOptions());
        copy.LoadState(blob);
        Assert.Equal(blob, copy.SaveState());
    }
}
