using EarlyWarning.Core.Buffers;

namespace EarlyWarning.Core.Tests;

public sealed class StateBlobTests
{
    [Fact]
    public void Bytes_written_every_way_read_back_in_order_across_chunks()
    {
        var expected = new List<byte>();
        using var blob = new StateBlob();
        var rng = new Random(11);
        // Stream writes of every size around the chunk boundary, single bytes, and buffer-writer spans.
        using (var w = new BinaryWriter(blob.AsWriteStream()))
        {
            foreach (var n in new[] { 1, 7, StateBlob.ChunkSize - 9, 20, StateBlob.ChunkSize, 3, 2 * StateBlob.ChunkSize + 1 })
            {
                var bytes = new byte[n];
                rng.NextBytes(bytes);
                w.Write(bytes);
                expected.AddRange(bytes);
                w.Write((byte)n);
                expected.Add((byte)n);
            }
        }
        for (var i = 0; i < 1000; i++)
        {
            var span = blob.GetSpan(100);
            Assert.True(span.Length >= 100);
            for (var k = 0; k < 37; k++) span[k] = (byte)(i + k);
            blob.Advance(37);
            for (var k = 0; k < 37; k++) expected.Add((byte)(i + k));
        }
        Assert.Equal(expected.Count, blob.Length);
        var segments = 0;
        var joined = new List<byte>();
        foreach (var segment in blob.Bytes)
        {
            Assert.True(segment.Length <= StateBlob.ChunkSize);
            joined.AddRange(segment.ToArray());
            segments++;
        }
        Assert.True(segments > 4, $"{segments} segments");
        Assert.Equal(expected, joined);
        Assert.Equal(expected.ToArray(), blob.ToArray());
    }

    [Fact]
    public void A_span_larger_than_a_block_is_written_into_pooled_blocks()
    {
        var blob = new StateBlob();
        blob.WriteByte(1);
        var big = blob.GetSpan(StateBlob.ChunkSize * 3);
        Assert.True(big.Length >= StateBlob.ChunkSize * 3);
        big[..(StateBlob.ChunkSize * 3)].Fill(9);
        blob.Advance(StateBlob.ChunkSize * 3);
        blob.WriteByte(2);
        Assert.Equal(StateBlob.ChunkSize * 3 + 2, blob.Length);
        // Copied on Advance into blocks after the first byte: four blocks of which none is larger than a block.
        var lengths = new List<int>();
        foreach (var segment in blob.Bytes) lengths.Add(segment.Length);
        Assert.Equal([StateBlob.ChunkSize, StateBlob.ChunkSize, StateBlob.ChunkSize, 2], lengths);
        var bytes = blob.ToArray();
        Assert.Equal(1, bytes[0]);
        Assert.All(bytes[1..^1], b => Assert.Equal(9, b));
        Assert.Equal(2, bytes[^1]);
        var before = StateBlob.PooledChunks;
        blob.Dispose();
        Assert.Equal(before + 4, StateBlob.PooledChunks);
    }

    [Fact]
    public void Disposing_returns_the_chunks_once_and_the_next_blob_reuses_them()
    {
        var blob = new StateBlob();
        blob.Write(new byte[StateBlob.ChunkSize * 2 + 5]);
        var before = StateBlob.PooledChunks;
        blob.Dispose();
        blob.Dispose(); // twice: still returned once
        Assert.Equal(before + 3, StateBlob.PooledChunks);
        Assert.True(blob.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => blob.ToArray());
        Assert.Throws<ObjectDisposedException>(() => blob.GetSpan());
        Assert.Throws<ObjectDisposedException>(() => blob.Bytes);

        using var next = new StateBlob();
        next.Write(new byte[StateBlob.ChunkSize * 2 + 5]);
        Assert.Equal(before, StateBlob.PooledChunks);
    }

    [Fact]
    public void A_wrapped_array_is_one_segment_read_only_and_never_pooled()
    {
        var bytes = new byte[] { 1, 2, 3 };
        var before = StateBlob.PooledChunks;
        StateBlob blob = bytes;
        Assert.Equal(3, blob.Length);
        Assert.True(blob.Bytes.IsSingleSegment);
        Assert.Equal(bytes, blob.Bytes.First.ToArray());
        Assert.Same(bytes, blob.ToArray());
        Assert.Throws<InvalidOperationException>(() => blob.WriteByte(4));
        Assert.Throws<InvalidOperationException>(() => blob.GetSpan());
        blob.Dispose();
        Assert.Equal(before, StateBlob.PooledChunks);

        using var empty = StateBlob.From([]);
        Assert.Equal(0, empty.Length);
        Assert.Empty(empty.ToArray());
        Assert.Throws<ArgumentNullException>(() => StateBlob.From(null!));
    }
}
