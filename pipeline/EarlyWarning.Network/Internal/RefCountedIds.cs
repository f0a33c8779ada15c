namespace EarlyWarning.Network.Internal;

/// <summary>
/// Small integer ids for strings while they are in use: each use takes the string's id (<see cref="Acquire"/>) and
/// gives it back (<see cref="Release"/>); a string keeps its id while any use holds it, and freed ids are reused, so
/// ids stay below the largest number of strings in use at once (<see cref="Bound"/>). Arrays indexed by id then replace
/// dictionaries keyed by the strings. Not thread-safe.
/// </summary>
internal sealed class RefCountedIds
{
    private readonly Dictionary<string, int> _idOf = new(StringComparer.Ordinal);
    private string?[] _names = new string?[64];
    private int[] _refs = new int[64];
    private readonly Stack<int> _free = new();

    /// <summary>Ids in use are below this.</summary>
    public int Bound { get; private set; }

    /// <summary>Strings holding an id.</summary>
    public int Count => _idOf.Count;

    /// <summary>The string holding <paramref name="id"/>, or null when the id is free.</summary>
    public string? Name(int id) => _names[id];

    /// <summary>How many uses hold <paramref name="id"/> (0 when free).</summary>
    public int Uses(int id) => _refs[id];

    public int Acquire(string name)
    {
        ref var id = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_idOf, name, out var exists);
        if (exists)
        {
            _refs[id]++;
            return id;
        }
        if (!_free.TryPop(out id))
        {
            id = Bound++;
            if (id == _names.Length)
            {
                Array.Resize(ref _names, id * 2);
                Array.Resize(ref _refs, id * 2);
            }
        }
        _names[id] = name;
        _refs[id] = 1;
        return id;
    }

    public void Release(int id)
    {
        if (_refs[id] <= 0) throw new InvalidOperationException($"id {id} is not in use");
        if (--_refs[id] > 0) return;
        _idOf.Remove(_names[id]!);
        _names[id] = null;
        _free.Push(id);
    }
}
