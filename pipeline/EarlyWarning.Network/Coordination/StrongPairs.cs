using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Coordination;

/// <summary>
/// The strong account pairs (those that co-shared enough distinct contents) with a vertex number for every account in
/// one of them, kept as pairs come and go. Candidate groups are rebuilt from these numbers at detection time; they
/// used to be assigned afresh at each rebuild by hashing both account ids of every strong pair (hundreds of thousands
/// of string hashes per detection). Numbers of accounts that leave are reused; the components and k-cores built from
/// them do not depend on the numbering. Not thread-safe.
/// </summary>
internal sealed class StrongPairs
{
    private readonly Dictionary<(string, string), (int A, int B)> _pairs = [];
    private readonly RefCountedIds _vertices = new();

    public int Count => _pairs.Count;

    /// <summary>Vertex numbers in use are below this.</summary>
    public int VertexBound => _vertices.Bound;

    /// <summary>The account holding vertex number <paramref name="v"/>, or null when the number is free.</summary>
    public string? Name(int v) => _vertices.Name(v);

    public IEnumerable<(string, string)> Keys => _pairs.Keys;

    /// <summary>Each strong pair's two vertex numbers, in no particular order.</summary>
    public Dictionary<(string, string), (int A, int B)>.ValueCollection Vertices => _pairs.Values;

    public bool Add((string, string) key)
    {
        if (_pairs.ContainsKey(key)) return false;
        _pairs.Add(key, (_vertices.Acquire(key.Item1), _vertices.Acquire(key.Item2)));
        return true;
    }

    public bool Remove((string, string) key)
    {
        if (!_pairs.Remove(key, out var v)) return false;
        _vertices.Release(v.A);
        _vertices.Release(v.B);
        return true;
    }
}
