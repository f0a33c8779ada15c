using System.Buffers;
using Microsoft.IO;

namespace EarlyWarning.Core.Buffers;

/// <summary>
/// Bytes of a stage's saved state, held in pooled blocks of <see cref="ChunkSize"/> bytes rather than one array. The
/// network window's state is tens of MB: encoded into a growing <see cref="MemoryStream"/> and copied out with
/// <c>ToArray</c>, each checkpoint put two or three times that on the large-object heap, and those allocations set off
/// about half of a run's full (blocking) collections. The blocks come from one
/// <see cref="RecyclableMemoryStreamManager"/>: they stay below the large-object threshold, go back to its pool when
/// the store has written them (<see cref="Dispose"/>), and a store writes them piece by piece (SQLite: incremental blob
/// I/O) from <see cref="Bytes"/>. A blob can also wrap one existing array (small values, tests).
/// </summary>
/// <remarks>
/// Written by one thread, then read (and disposed) by one thread at a time; not thread-safe (the shared pool is).
/// Never call <c>GetBuffer</c>-style whole-buffer access on the stream: it would copy everything into one large array.
/// </remarks>
public sealed class StateBlob : IBufferWriter<byte>, IDisposable
{
    /// <summary>Bytes per pooled block: below the 85,000-byte large-object threshold.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>Bytes of free blocks the pool keeps at most (128 MiB: about two network states in flight).</summary>
    public const long MaxPooledBytes = 128L * 1024 * 1024;

    // Large buffers are only a buffer writer's temporary when it asks for a span longer than a block (copied into
    // blocks on Advance); a few are kept.
    private static readonly RecyclableMemoryStreamManager Manager = new(new RecyclableMemoryStreamManager.Options
    {
        BlockSize = ChunkSize,
        MaximumSmallPoolFreeBytes = MaxPooledBytes,
        MaximumLargePoolFreeBytes = 4L * 1024 * 1024,
    });

    private readonly RecyclableMemoryStream? _stream; // null for a wrapped array
    private readonly byte[]? _wrapped;
    private bool _disposed;

    /// <summary>An empty blob that takes blocks from the pool as it is written.</summary>
    public StateBlob() => _stream = Manager.GetStream("state");

    private StateBlob(byte[] bytes) => _wrapped = bytes;

    /// <summary>Wraps <paramref name="bytes"/> (not copied; never returned to the pool).</summary>
    public static StateBlob From(byte[] bytes) => new(bytes ?? throw new ArgumentNullException(nameof(bytes)));

    /// <summary>Same as <see cref="From"/>.</summary>
    public static implicit operator StateBlob(byte[] bytes) => From(bytes);

    /// <summary>Total bytes written.</summary>
    public long Length => _wrapped?.LongLength ?? (_disposed ? 0 : _stream!.Length);

    /// <summary>True once <see cref="Dispose"/> has returned the blocks.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// The bytes in order, one segment per block (the wrapped array: one segment). Valid until the blob is written to
    /// again or disposed.
    /// </summary>
    public ReadOnlySequence<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _wrapped is not null ? new ReadOnlySequence<byte>(_wrapped) : _stream!.GetReadOnlySequence();
        }
    }

    /// <summary>
    /// The bytes as one array: a new one (allocates: for small values, tests and stores that need one buffer), or the
    /// wrapped array itself for a blob made by <see cref="From"/>.
    /// </summary>
    public byte[] ToArray() => _wrapped ?? Bytes.ToArray();

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0) => Writable.GetSpan(sizeHint);

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0) => Writable.GetMemory(sizeHint);

    /// <inheritdoc />
    public void Advance(int count) => Writable.Advance(count);

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes) => Writable.Write(bytes);

    /// <summary>Appends one byte.</summary>
    public void WriteByte(byte value) => Writable.WriteByte(value);

    /// <summary>A write-only stream over this blob (for <see cref="BinaryWriter"/>); disposing it leaves the blob as it is.</summary>
    public Stream AsWriteStream() => new WriteStream(this);

    /// <summary>Returns the pooled blocks; the blob cannot be read afterwards. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stream?.Dispose();
    }

    /// <summary>Free blocks the pool holds now (for tests).</summary>
    public static long PooledChunks => Manager.SmallBlocksFree;

    private RecyclableMemoryStream Writable
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _stream ?? throw new InvalidOperationException("a blob wrapping an array cannot be written to");
        }
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
