using EarlyWarning.App.Pipeline;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Tests.Pipeline;

/// <summary>MinHash signature arrays handed from the classify stage to the network stage and back (<see cref="SignaturePool"/>).</summary>
public sealed class SignaturePoolTests
{
    private static PostEnvelope Envelope(ulong[]? sig) => new()
    {
        Post = new Post { Id = "p", AuthorId = "a", Text = "a post about the election", CreatedAt = DateTimeOffset.UnixEpoch },
        Position = new SourcePosition("s", 1),
        MinHash = sig,
    };

    [Fact]
    public void A_returned_signature_is_taken_from_its_post_and_rented_again()
    {
        var pool = new SignaturePool();
        var first = pool.Rent(64);
        Assert.Equal(64, first.Length);
        var e = Envelope(first);
        pool.Return(e);
        Assert.Null(e.MinHash); // nothing after the network stage can read an array that is being reused
        Assert.Equal(1, pool.Count);
        Assert.Same(first, pool.Rent(64));
        Assert.Equal(0, pool.Count);
        Assert.NotSame(first, pool.Rent(64));

        // A post without a signature gives nothing back; an array of another length is never handed out.
        pool.Return(Envelope(null));
        Assert.Equal(0, pool.Count);
        pool.Return(Envelope(new ulong[32]));
        Assert.Equal(64, pool.Rent(64).Length);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void The_pool_keeps_a_bounded_number_of_arrays()
    {
        var pool = new SignaturePool();
        for (var i = 0; i < SignaturePool.MaxKept + 100; i++) pool.Return(Envelope(new ulong[64]));
        Assert.Equal(SignaturePool.MaxKept, pool.Count);
    }

    [Fact]
    public void Extras_fill_a_rented_array_with_the_same_signature_as_a_fresh_one()
    {
        var pool = new SignaturePool();
        // A used array full of other values: the signature must overwrite all of it.
        var stale = pool.Rent(new EarlyWarning.Text.Features.MinHasher().NumHashes);
        Array.Fill(stale, ulong.MaxValue);
        var used = Envelope(stale);
        pool.Return(used);

        var fresh = Envelope(null);
        new PostTextExtras().FillFromRaw(fresh, withStrings: false);
        var pooled = Envelope(null);
        new PostTextExtras { Signatures = pool }.FillFromRaw(pooled, withStrings: false);
        Assert.Same(stale, pooled.MinHash);
        Assert.Equal(fresh.MinHash, pooled.MinHash);
    }
}
