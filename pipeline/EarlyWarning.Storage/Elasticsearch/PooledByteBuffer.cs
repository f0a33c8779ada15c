using System.Buffers;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>
/// A growable byte buffer over <see cref="ArrayPool{T}"/> that a <see cref="System.Text.Json.Utf8JsonWriter"/> writes
/// into; bulk bodies are built here so a batch costs pooled arrays, not fresh ones per request.
/// </summary>
internal sealed class PooledByteBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;

    public PooledByteBuffer(int initialCapacity = 64 * 1024) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(256, initialCapacity));

    public int Length => _length;

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_length + count > _array.Length) throw new InvalidOperationException("advanced past the buffer");
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    public void WriteByte(byte b)
    {
        Ensure(1);
        _array[_length++] = b;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_array.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Clear() => _length = 0;

    /// <summary>Drops the first <paramref name="count"/> bytes, moving the rest to the start.</summary>
    public void RemovePrefix(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _length);
        _array.AsSpan(count, _length - count).CopyTo(_array);
        _length -= count;
    }

    private void Ensure(int sizeHint)
    {
        var need = _length + Math.Max(sizeHint, 1);
        if (need <= _array.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _array.Length * 2));
        _array.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        var a = _array;
        _array = [];
        _length = 0;
        if (a.Length > 0) ArrayPool<byte>.Shared.Return(a);
    }
}
