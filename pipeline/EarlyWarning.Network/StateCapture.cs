using System.Runtime.CompilerServices;
using System.Text;

namespace EarlyWarning.Network;

/// <summary>
/// The network stage's state taken at one instant, not yet encoded. <see cref="NetworkEngine.CaptureState"/> copies
/// what it must (values, not the live objects) while the caller holds the engine; <see cref="Encode"/> may then run on
/// another thread while the engine goes on observing posts, and gives exactly the bytes
/// <see cref="NetworkEngine.SaveState"/> would have given at the moment of capture. Small parts are encoded at capture
/// time; the large ones (edges, post index, account pairs) are kept as flat copies and sorted and encoded later.
/// </summary>
public sealed class StateCapture
{
    private readonly List<object> _parts = []; // byte[] (encoded at capture) or Action<BinaryWriter> (encoded later)
    private readonly MemoryStream _eager = new();
    private readonly BinaryWriter _now;
    private readonly int _sizeHint;
    private bool _complete;
    private bool _encoded;

    /// <summary>Told the encoded length (the engine sizes its next capture's buffer from it).</summary>
    internal Action<int>? Encoded { get; init; }

    /// <summary>
    /// The engine's encode buffer, kept between captures: taken for an encode when no other encode holds it (else a
    /// fresh one) and put back after. A window's state is tens of MB, and a fresh buffer for each capture was one more
    /// large-object allocation (besides the returned copy) counting towards the next full collection.
    /// </summary>
    internal StrongBox<MemoryStream?>? Buffer { get; init; }

    internal StateCapture(int sizeHint)
    {
        _sizeHint = Math.Max(0, sizeHint);
        _now = new BinaryWriter(_eager, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>Writes at capture time (parts too small to be worth copying).</summary>
    internal BinaryWriter Now => _complete ? throw new InvalidOperationException("capture is complete") : _now;

    /// <summary>Adds a part written at <see cref="Encode"/> time: <paramref name="write"/> must use only data copied for it.</summary>
    internal void Later(Action<BinaryWriter> write)
    {
        Seal();
        _parts.Add(write);
    }

    internal StateCapture Complete()
    {
        Seal();
        _now.Dispose();
        _complete = true;
        return this;
    }

    private void Seal()
    {
        _now.Flush();
        if (_eager.Length == 0) return;
        _parts.Add(_eager.ToArray());
        _eager.SetLength(0);
    }

    /// <summary>Encodes the captured state (once; safe on any thread while the engine runs on).</summary>
    public byte[] Encode()
    {
        if (!_complete) throw new InvalidOperationException("capture is not complete");
        if (_encoded) throw new InvalidOperationException("a capture is encoded once");
        _encoded = true;
        // Sized from the last state, so a window of tens of MB is not grown by doubling (each step a large-object copy):
        // a kept buffer too, when the state outgrew it.
        var capacity = _sizeHint + (_sizeHint >> 3);
        var ms = (Buffer is null ? null : Interlocked.Exchange(ref Buffer.Value, null)) ?? new MemoryStream(capacity);
        ms.SetLength(0);
        if (ms.Capacity < capacity) ms.Capacity = capacity;
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var part in _parts)
            {
                if (part is byte[] bytes) w.Write(bytes);
                else ((Action<BinaryWriter>)part)(w);
            }
        }
        _parts.Clear(); // the copies can go as soon as they are written
        Encoded?.Invoke((int)Math.Min(ms.Length, int.MaxValue / 2));
        var result = ms.ToArray();
        if (Buffer is not null) Volatile.Write(ref Buffer.Value, ms);
        return result;
    }
}
