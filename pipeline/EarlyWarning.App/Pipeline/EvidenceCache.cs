using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline;

/// <summary>
/// The most recent posts by id, so that with <c>--store-posts flagged</c> the unflagged posts an alert cites can still be
/// stored as its evidence. A flagged post is stored anyway and keeps its place by id only. An unflagged one is kept as
/// the pseudonymised JSON the store would write, with its position, read time and decision, and decoded again when an
/// alert cites it (a post whose JSON is the sanitiser's placeholder is kept whole): a decoded post with its strings and
/// lists is some twenty objects, and kept as JSON the 1M-post run's peak working set was ~100 MB lower (BENCHMARKS.md,
/// run 9).
/// </summary>
/// <remarks>
/// The cache spans tens of thousands of posts, longer than a young-generation collection: kept as objects (a byte
/// array, a record and the decision's three objects per post) every one was copied into the older generations and
/// died there, and that copying was about a third of the run's collection pauses (50,000 posts kept against 1,000:
/// 5.0 s paused against 3.4 s on the 1M-post stream). So the JSON goes into one byte ring and the rest into one array
/// of slot structs, both reused, and a cited post's decision is rebuilt from the slot. Used by one thread at a time.
/// </remarks>
public sealed class EvidenceCache
{
    private struct Slot
    {
        public string Id;
        public bool Flagged;
        public Post? Whole; // a placeholder post, kept as it is
        public int Offset; // of the JSON in the ring
        public int Length;
        public SourcePosition Position;
        public long ReadTimestamp;
        public bool HasDecision;
        public string Label;
        public float None, Offensive, Hate;
        public float Incitement, Dehumanisation;
        public string? Target;
        public string Model;
        public List<string>? Terms; // the decision's own list, kept only when it is not empty
        public List<string>? Explanation;
    }

    private readonly int _capacity;
    // No size limit: the sanitised JSON can be longer than the message it came from was.
    private readonly PostDecoder _decoder = new(int.MaxValue);
    private readonly Dictionary<string, int> _byId = new(StringComparer.Ordinal);
    private Slot[] _slots = new Slot[64];
    private int _first; // the oldest slot
    private int _count;
    private byte[] _ring;
    private int _head; // where the next JSON goes
    private int _noJson;

    public EvidenceCache(int capacity, int initialRingBytes = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _ring = new byte[Math.Max(16, initialRingBytes)];
    }

    /// <summary>Cited posts whose kept JSON could not be read back (not stored as evidence; reported by the caller).</summary>
    public long Unreadable { get; private set; }

    /// <summary>Posts kept now (flagged ones included).</summary>
    public int Count => _count;

    /// <summary>Bytes of the JSON ring (grows when the kept JSON does not fit; tests).</summary>
    public int RingBytes => _ring.Length;

    public void Add(PostEnvelope e)
    {
        if (_byId.ContainsKey(e.Post.Id)) return;
        if (_count == _capacity) RemoveOldest();
        if (_count == _slots.Length) GrowSlots();
        var at = (_first + _count) % _slots.Length;
        ref var s = ref _slots[at];
        s = new Slot { Id = e.Post.Id, Flagged = e.Decision is { IsFlagged: true } };
        if (!s.Flagged)
        {
            var json = e.Post.Raw.Span;
            if (json.IsEmpty || RawSanitizer.IsPlaceholder(json)) s.Whole = e.Post;
            else
            {
                // Before the slot counts, so a growing ring copies only the slots already there.
                s.Offset = Reserve(json.Length);
                s.Length = json.Length;
                json.CopyTo(_ring.AsSpan(s.Offset));
                _head = s.Offset + json.Length;
            }
            s.Position = e.Position;
            s.ReadTimestamp = e.ReadTimestamp;
            if (e.Decision is { } d)
            {
                s.HasDecision = true;
                s.Label = d.Label;
                s.None = d.Scores[0];
                s.Offensive = d.Scores[1];
                s.Hate = d.Scores[2];
                s.Incitement = d.Incitement;
                s.Dehumanisation = d.Dehumanisation;
                s.Target = d.Target;
                s.Model = d.Model;
                s.Terms = d.Terms.Count > 0 ? d.Terms : null;
                s.Explanation = d.Explanation.Count > 0 ? d.Explanation : null;
            }
        }
        _count++;
        _byId.Add(s.Id, at);
    }

    /// <summary>The unflagged post with id <paramref name="id"/>, if it is among the most recent posts.</summary>
    public bool TryGetUnflagged(string id, out PostEnvelope e)
    {
        e = null!;
        if (!_byId.TryGetValue(id, out var at)) return false;
        ref readonly var s = ref _slots[at];
        if (s.Flagged) return false;
        var post = s.Whole;
        // Decoded from a copy: the post's Raw refers to the bytes it was decoded from, and the ring is reused.
        if (post is null && !_decoder.TryDecode(_ring.AsSpan(s.Offset, s.Length).ToArray(), out post, out _))
        {
            Unreadable++;
            return false;
        }
        Decision? decision = null;
        if (s.HasDecision)
        {
            decision = new Decision
            {
                PostId = s.Id,
                Label = s.Label,
                Scores = [s.None, s.Offensive, s.Hate],
                Incitement = s.Incitement,
                Dehumanisation = s.Dehumanisation,
                Target = s.Target,
                Model = s.Model,
                Terms = s.Terms is null ? [] : [.. s.Terms],
                Explanation = s.Explanation is null ? [] : [.. s.Explanation],
            };
        }
        e = new PostEnvelope { Post = post!, Position = s.Position, Decision = decision, ReadTimestamp = s.ReadTimestamp };
        return true;
    }

    private void RemoveOldest()
    {
        _byId.Remove(_slots[_first].Id);
        _slots[_first] = default;
        _first = (_first + 1) % _slots.Length;
        _count--;
        if (_noJson > 0) _noJson--;
    }

    private void GrowSlots()
    {
        var bigger = new Slot[Math.Min(_capacity, _slots.Length * 2)];
        for (var i = 0; i < _count; i++)
        {
            bigger[i] = _slots[(_first + i) % _slots.Length];
            _byId[bigger[i].Id] = i;
        }
        _slots = bigger;
        _first = 0;
    }

    // The oldest kept JSON still in the ring: where the free space ends. The slots before `_noJson` (counted from the
    // oldest) are known to hold none, so each slot is passed over once in its life, however many posts are flagged.
    private int Tail()
    {
        for (; _noJson < _count; _noJson++)
        {
            ref readonly var s = ref _slots[(_first + _noJson) % _slots.Length];
            if (s.Length > 0) return s.Offset;
        }
        return -1;
    }

    // Where `length` bytes go: after the newest JSON, or at the start of the ring once the end is reached, short of
    // the oldest JSON; the ring grows (and is compacted) when neither has room.
    private int Reserve(int length)
    {
        var tail = Tail();
        if (tail < 0)
        {
            _head = 0;
            if (length > _ring.Length) _ring = new byte[Math.Max(length, _ring.Length * 2)];
            return 0;
        }
        if (_head > tail)
        {
            if (_ring.Length - _head >= length) return _head;
            if (length < tail) return 0;
        }
        else if (tail - _head > length) return _head;
        Compact(length);
        return _head;
    }

    // A ring at least twice as large (and large enough for `extra` more bytes), the kept JSON copied to its start in order.
    private void Compact(int extra)
    {
        var live = 0;
        for (var i = 0; i < _count; i++) live += _slots[(_first + i) % _slots.Length].Length;
        var bigger = new byte[Math.Max(_ring.Length * 2, live + extra + 1)];
        var at = 0;
        for (var i = 0; i < _count; i++)
        {
            ref var s = ref _slots[(_first + i) % _slots.Length];
            if (s.Length == 0) continue;
            _ring.AsSpan(s.Offset, s.Length).CopyTo(bigger.AsSpan(at));
            s.Offset = at;
            at += s.Length;
        }
        _ring = bigger;
        _head = at;
    }
}
