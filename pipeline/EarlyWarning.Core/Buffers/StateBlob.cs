using System.Buffers;

namespace EarlyWarning.Core.Buffers;

/// <summary>
/// Bytes of a stage's saved state, held in pooled chunks of <see cref="ChunkSize"/> bytes rather than one array. The
/// network window's state is tens of MB: encoded into a growing <see cref="MemoryStream"/> and copied out with
/// <c>ToArray</c>, each checkpoint put two or three times that on the large-object heap, and those allocations set off
/// about half of a run's full (blocking) collections. Chunks stay below the large-object threshold, come back to the
/// pool when the store has written them (<see cref="Dispose"/>), and a store writes them piece by piece (SQLite:
/// incremental blob I/O). A blob can also wrap one existing array (small values, tests).
/// </summary>
/// <remarks>Written by one thread, then read (and disposed) by one thread at a time; not thread-safe.</remarks>
public sealed class StateBlob : IBufferWriter<byte>, IDisposable
{
    /// <summary>Bytes per pooled chunk: below the 85,000-byte large-object threshold.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>Chunks the pool keeps at most (2,048 × 64 KiB = 128 MiB: about two network states in flight).</summary>
    public const int MaxPooledChunks = 2048;

    private static readonly Stack<byte[]> Pool = new();

    private readonly List<byte[]> _chunks = [];
    private readonly List<int> _used = []; // bytes used in each chunk but the last (that one is _pos)
    private readonly bool _pooled;
    private byte[] _current = [];
    private int _pos;
    private long _length;
    private bool _disposed;

    /// <summary>An empty blob that takes chunks from the pool as it is written.</summary>
    public StateBlob() => _pooled = true;

    private StateBlob(byte[] bytes)
    {
        _chunks.Add(bytes);
        _current = bytes;
        _pos = bytes.Length;
        _length = bytes.Length;
    }

    /// <summary>Wraps <paramref name="bytes"/> (not copied; never returned to the pool).</summary>
    public static StateBlob From(byte[] bytes) => new(bytes ?? throw new ArgumentNullException(nameof(bytes)));

    /// <summary>Same as <see cref="From"/>.</summary>
    public static implicit operator StateBlob(byte[] bytes) => From(bytes);

    /// <summary>Total bytes written.</summary>
    public long Length => _length;

    /// <summary>True once <see cref="Dispose"/> has returned the chunks.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Number of segments (<see cref="Segment"/>).</summary>
    public int SegmentCount => _chunks.Count;

    /// <summary>The <paramref name="index"/>th run of bytes, in order; together they are the whole blob.</summary>
    public ReadOnlySpan<byte> Segment(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _chunks[index].AsSpan(0, index == _chunks.Count - 1 ? _pos : _used[index]);
    }

    /// <summary>
    /// The bytes as one array: a new one (allocates: for small values, tests and stores that need one buffer), or the
    /// wrapped array itself for a blob made by <see cref="From"/>.
    /// </summary>
    public byte[] ToArray()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_pooled) return _chunks[0];
        var result = new byte[checked((int)_length)];
        var at = 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            var segment = Segment(i);
            segment.CopyTo(result.AsSpan(at));
            at += segment.Length;
        }
        return result;
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0) => GetArraySegment(sizeHint).AsSpan();

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0) => GetArraySegment(sizeHint).AsMemory();

    /// <inheritdoc />
    public void Advance(int count)
    {
        if (count < 0 || _pos + count > _current.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _pos += count;
        _length += count;
    }

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _current.Length - _pos && _pooled && !_disposed)
        {
            bytes.CopyTo(_current.AsSpan(_pos));
            _pos += bytes.Length;
            _length += bytes.Length;
            return;
        }
        while (!bytes.IsEmpty)
        {
            var free = GetArraySegment(1);
            var n = Math.Min(free.Count, bytes.Length);
            bytes[..n].CopyTo(free.AsSpan());
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>Appends one byte.</summary>
    public void WriteByte(byte value)
    {
        if (_pos == _current.Length || !_pooled || _disposed) GetArraySegment(1);
        _current[_pos++] = value;
        _length++;
    }

    /// <summary>A write-only stream over this blob (for <see cref="BinaryWriter"/>); disposing it leaves the blob as it is.</summary>
    public Stream AsWriteStream() => new WriteStream(this);

    /// <summary>Returns the pooled chunks; the blob cannot be read afterwards. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_pooled)
        {
            lock (Pool)
                foreach (var c in _chunks)
                    if (c.Length == ChunkSize && Pool.Count < MaxPooledChunks) Pool.Push(c);
        }
        _chunks.Clear();
        _used.Clear();
        _current = [];
        _pos = 0;
    }

    /// <summary>Chunks the pool holds now (for tests).</summary>
    public static int PooledChunks
    {
        get { lock (Pool) return Pool.Count; }
    }

    // The free space at the end of the last chunk, after adding a chunk if it has less than sizeHint (at least 1) bytes.
    private ArraySegment<byte> GetArraySegment(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_pooled) throw new InvalidOperationException("a blob wrapping an array cannot be written to");
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var need = Math.Max(1, sizeHint);
        if (_current.Length - _pos >= need) return new ArraySegment<byte>(_current, _pos, _current.Length - _pos);
        // A request larger than a chunk (a writer asking for one contiguous span) gets an array of its own, not pooled.
        byte[]? chunk = null;
        if (need <= ChunkSize)
            lock (Pool)
                Pool.TryPop(out chunk);
        chunk ??= new byte[Math.Max(need, ChunkSize)];
        if (_chunks.Count > 0) _used.Add(_pos);
        _chunks.Add(chunk);
        _current = chunk;
        _pos = 0;
        return new ArraySegment<byte>(chunk);
    }

    private sealed class WriteStream(StateBlob blob) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => blob.Length;
        public override long Position { get => blob.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => blob.Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => blob.Write(buffer);
        public override void WriteByte(byte value) => blob.WriteByte(value);
    }
}
