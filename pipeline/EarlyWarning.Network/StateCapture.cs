using System.Text;
using EarlyWarning.Core.Buffers;

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
    // StateBlob (encoded at capture) or Action<BinaryWriter> (encoded later).
    private readonly List<object> _parts = [];
    private StateBlob _eager = new();
    private BinaryWriter _now;
    private bool _complete;
    private bool _encoded;

    internal StateCapture() => _now = new BinaryWriter(_eager.AsWriteStream(), Encoding.UTF8, leaveOpen: true);

    /// <summary>Writes at capture time (parts too small to be worth copying).</summary>
    internal BinaryWriter Now => _complete ? throw new InvalidOperationException("capture is complete") : _now;

    /// <summary>Adds a part written at <see cref="Encode"/> time: <paramref name="write"/> must use only data copied for it.</summary>
    internal void Later(Action<BinaryWriter> write)
    {
        Seal();
        _parts.Add(write);
        _eager = new StateBlob();
        _now = new BinaryWriter(_eager.AsWriteStream(), Encoding.UTF8, leaveOpen: true);
    }

    internal StateCapture Complete()
    {
        Seal();
        _complete = true;
        return this;
    }

    // The bytes written at capture time so far become a part (kept in their pooled chunks, not copied).
    private void Seal()
    {
        _now.Flush();
        if (_eager.Length == 0) _eager.Dispose();
        else _parts.Add(_eager);
    }

    /// <summary>
    /// Encodes the captured state (once; safe on any thread while the engine runs on) into pooled chunks, never one
    /// large array: the caller disposes the blob when it has been stored.
    /// </summary>
    public StateBlob EncodeToBlob()
    {
        if (!_complete) throw new InvalidOperationException("capture is not complete");
        if (_encoded) throw new InvalidOperationException("a capture is encoded once");
        _encoded = true;
        var result = new StateBlob();
        using (var w = new BinaryWriter(result.AsWriteStream(), Encoding.UTF8, leaveOpen: true))
        {
            foreach (var part in _parts)
            {
                if (part is StateBlob eager)
                {
                    w.Flush();
                    foreach (var segment in eager.Bytes) result.Write(segment.Span);
                    eager.Dispose();
                }
                else ((Action<BinaryWriter>)part)(w);
            }
        }
        _parts.Clear(); // the copies can go as soon as they are written
        return result;
    }

    /// <summary>Encodes the captured state into one array (see <see cref="EncodeToBlob"/>).</summary>
    public byte[] Encode()
    {
        using var blob = EncodeToBlob();
        return blob.ToArray();
    }
}
