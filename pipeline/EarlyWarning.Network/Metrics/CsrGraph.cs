using System.Runtime.InteropServices;
using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Metrics;

/// <summary>
/// A compact compressed-sparse-row copy of a window's graph (vertices 0..n-1 in ordinal account order): the
/// directed weighted out-adjacency, its transpose (in-adjacency, for pull-style PageRank) and the symmetrised
/// adjacency for components, communities and betweenness. Built once per snapshot from the QuikGraph graph
/// (the graph of record) by counting sorts, without hashing; the algorithms here run on flat arrays.
/// </summary>
public sealed class CsrGraph
{
    private readonly double[] _outSum;
    private readonly double[] _inShare; // in-arc weight / source's out-weight: the share of the source's rank it carries
    private readonly int[] _dangling; // vertices without out-weight

    private CsrGraph(string[] names, int[] outStart, int[] outTarget, double[] outWeight, int[] inStart, int[] inSource,
        double[] inShare, double[] outSum, int[] undStart, int[] undTarget, double[] undWeight)
    {
        Names = names;
        OutStart = outStart;
        OutTarget = outTarget;
        OutWeight = outWeight;
        InStart = inStart;
        InSource = inSource;
        _inShare = inShare;
        _outSum = outSum;
        UndStart = undStart;
        UndTarget = undTarget;
        UndWeight = undWeight;
        var dangling = new List<int>();
        for (var v = 0; v < outSum.Length; v++) if (outSum[v] <= 0) dangling.Add(v);
        _dangling = [.. dangling];
    }

    /// <summary>Vertex names, index = vertex number.</summary>
    public string[] Names { get; }
    internal int[] OutStart { get; }
    internal int[] OutTarget { get; }
    internal double[] OutWeight { get; }
    internal int[] InStart { get; }
    internal int[] InSource { get; }
    internal int[] UndStart { get; }
    internal int[] UndTarget { get; }
    internal double[] UndWeight { get; }

    /// <summary>Number of vertices.</summary>
    public int VertexCount => Names.Length;

    /// <summary>Distinct directed arcs (parallel input arcs merged).</summary>
    public int ArcCount => OutTarget.Length;

    /// <summary>Distinct unordered neighbour pairs in the symmetrised view (self-loops excluded).</summary>
    public int UndirectedEdgeCount => UndTarget.Length / 2;

    /// <summary>Targets of <paramref name="v"/>'s out-arcs, ascending.</summary>
    public ReadOnlySpan<int> OutTargets(int v) => OutTarget.AsSpan(OutStart[v], OutStart[v + 1] - OutStart[v]);

    /// <summary>Weights of <paramref name="v"/>'s out-arcs, aligned with <see cref="OutTargets"/>.</summary>
    public ReadOnlySpan<double> OutWeights(int v) => OutWeight.AsSpan(OutStart[v], OutStart[v + 1] - OutStart[v]);

    /// <summary>Sources of <paramref name="v"/>'s in-arcs, ascending.</summary>
    public ReadOnlySpan<int> InSources(int v) => InSource.AsSpan(InStart[v], InStart[v + 1] - InStart[v]);

    /// <summary>Neighbours of <paramref name="v"/> in the symmetrised view, ascending.</summary>
    public ReadOnlySpan<int> Neighbours(int v) => UndTarget.AsSpan(UndStart[v], UndStart[v + 1] - UndStart[v]);

    /// <summary>Summed weights of both directions, aligned with <see cref="Neighbours"/>.</summary>
    public ReadOnlySpan<double> NeighbourWeights(int v) => UndWeight.AsSpan(UndStart[v], UndStart[v + 1] - UndStart[v]);

    /// <summary>
    /// Builds the CSR from directed weighted arcs. Parallel arcs are merged by summing weights; each adjacency row
    /// is sorted by neighbour. Two stable counting sorts (by target, then by source) order the arcs, so the build
    /// is O(n + m) with no hashing. Throws when a vertex index is out of range or a weight is negative or not finite.
    /// </summary>
    public static CsrGraph Build(string[] names, IReadOnlyList<(int Source, int Target, double Weight)> arcs)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(arcs);
        var n = names.Length;
        var m = arcs.Count;
        var src = new int[m];
        var dst = new int[m];
        var wt = new double[m];
        if (arcs is List<(int, int, double)> list)
        {
            var span = CollectionsMarshal.AsSpan(list);
            for (var i = 0; i < span.Length; i++) (src[i], dst[i], wt[i]) = span[i];
        }
        else
        {
            for (var i = 0; i < m; i++) (src[i], dst[i], wt[i]) = arcs[i];
        }
        for (var i = 0; i < m; i++)
        {
            if ((uint)src[i] >= (uint)n || (uint)dst[i] >= (uint)n) throw new ArgumentOutOfRangeException(nameof(arcs), $"arc {i} has a vertex outside 0..{n - 1}");
            if (!double.IsFinite(wt[i]) || wt[i] < 0) throw new ArgumentOutOfRangeException(nameof(arcs), $"arc {i} has a negative or non-finite weight");
        }

        // LSD radix: stable counting sort by target, then by source → arcs ordered by (source, target).
        var count = new int[n + 1];
        var byTarget = new int[m];
        foreach (var t in dst) count[t + 1]++;
        for (var v = 0; v < n; v++) count[v + 1] += count[v];
        for (var i = 0; i < m; i++) byTarget[count[dst[i]]++] = i;
        Array.Clear(count);
        var order = new int[m];
        foreach (var s in src) count[s + 1]++;
        for (var v = 0; v < n; v++) count[v + 1] += count[v];
        foreach (var i in byTarget) order[count[src[i]]++] = i;

        // Merge runs of equal (source, target) into one out-arc.
        var outStart = new int[n + 1];
        var outTargetTmp = byTarget; // reuse: byTarget is no longer needed
        var outWeightTmp = new double[m];
        var outSum = new double[n];
        var a = 0;
        for (var k = 0; k < m;)
        {
            var i = order[k];
            int s = src[i], t = dst[i];
            var w = wt[i];
            k++;
            while (k < m && src[order[k]] == s && dst[order[k]] == t) w += wt[order[k++]];
            outTargetTmp[a] = t;
            outWeightTmp[a++] = w;
            outStart[s + 1]++;
            outSum[s] += w;
        }
        for (var v = 0; v < n; v++) outStart[v + 1] += outStart[v];
        var outTarget = outTargetTmp.AsSpan(0, a).ToArray();
        var outWeight = outWeightTmp.AsSpan(0, a).ToArray();

        // Transpose: scanning sources in ascending order leaves each in-row sorted by source.
        var inStart = new int[n + 1];
        foreach (var t in outTarget) inStart[t + 1]++;
        for (var v = 0; v < n; v++) inStart[v + 1] += inStart[v];
        var fill = count; // reuse as cursor
        Array.Copy(inStart, fill, n + 1);
        var inSource = new int[a];
        var inWeight = new double[a];
        var inShare = new double[a];
        for (var s = 0; s < n; s++)
        {
            for (var k = outStart[s]; k < outStart[s + 1]; k++)
            {
                var p = fill[outTarget[k]]++;
                inSource[p] = s;
                inWeight[p] = outWeight[k];
                inShare[p] = outWeight[k] / outSum[s];
            }
        }

        // Symmetrised view: row v = merge of out-row v and in-row v (both sorted), weights of both directions summed.
        var undStart = new int[n + 1];
        var undTargetTmp = new int[2 * a];
        var undWeightTmp = new double[2 * a];
        var u = 0;
        for (var v = 0; v < n; v++)
        {
            int p = outStart[v], pe = outStart[v + 1], q = inStart[v], qe = inStart[v + 1];
            while (p < pe || q < qe)
            {
                int x;
                double w;
                if (q >= qe || (p < pe && outTarget[p] < inSource[q]))
                {
                    x = outTarget[p];
                    w = outWeight[p++];
                }
                else if (p >= pe || inSource[q] < outTarget[p])
                {
                    x = inSource[q];
                    w = inWeight[q++];
                }
                else
                {
                    x = outTarget[p];
                    w = outWeight[p++] + inWeight[q++];
                }
                if (x == v) continue;
                undTargetTmp[u] = x;
                undWeightTmp[u++] = w;
            }
            undStart[v + 1] = u;
        }
        return new CsrGraph(names, outStart, outTarget, outWeight, inStart, inSource, inShare, outSum,
            undStart, undTargetTmp.AsSpan(0, u).ToArray(), undWeightTmp.AsSpan(0, u).ToArray());
    }

    /// <summary>Weighted PageRank (damping d, dangling mass spread uniformly) by power iteration to an L1 change below tol.</summary>
    public double[] PageRank(double damping = 0.85, double tolerance = 1e-6, int maxIterations = 100)
    {
        var rank = new double[VertexCount];
        PageRank(rank, new double[VertexCount], damping, tolerance, maxIterations);
        return rank;
    }

    /// <summary>
    /// Allocation-free weighted PageRank into <paramref name="rank"/> (length <see cref="VertexCount"/>), using
    /// <paramref name="scratch"/> (same length) as the second buffer. Pull formulation over the in-adjacency:
    /// each vertex gathers its in-neighbours' rank times the precomputed share of their out-weight, so writes are
    /// sequential and the reads follow sorted source indices. Returns the number of iterations run.
    /// </summary>
    public int PageRank(Span<double> rank, Span<double> scratch, double damping = 0.85, double tolerance = 1e-6, int maxIterations = 100)
    {
        var n = VertexCount;
        if (rank.Length != n || scratch.Length != n) throw new ArgumentException("rank and scratch must have VertexCount elements");
        if (damping is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(damping));
        if (n == 0) return 0;
        rank.Fill(1.0 / n);
        var cur = rank;
        var next = scratch;
        ReadOnlySpan<int> inStart = InStart, inSource = InSource, dangling = _dangling;
        ReadOnlySpan<double> share = _inShare;
        var it = 0;
        while (it < maxIterations)
        {
            it++;
            var dmass = 0.0;
            foreach (var v in dangling) dmass += cur[v];
            var baseRank = ((1 - damping) + (damping * dmass)) / n;
            var delta = 0.0;
            var k = inStart[0];
            for (var v = 0; v < n; v++)
            {
                var end = inStart[v + 1];
                var sum = 0.0;
                for (; k < end; k++) sum += cur[inSource[k]] * share[k];
                var x = baseRank + (damping * sum);
                delta += Math.Abs(x - cur[v]);
                next[v] = x;
            }
            var t = cur;
            cur = next;
            next = t;
            if (delta < tolerance) break;
        }
        if (it % 2 == 1) cur.CopyTo(rank); // the last iterate is in scratch
        return it;
    }

    /// <summary>Weakly connected components (union-find); returns a component id per vertex, 0 = largest.</summary>
    public int[] Components(out int count)
    {
        var n = VertexCount;
        var parent = new int[n];
        for (var i = 0; i < n; i++) parent[i] = i;
        int Find(int x)
        {
            while (parent[x] != x)
            {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }
        for (var v = 0; v < n; v++)
        {
            for (var k = OutStart[v]; k < OutStart[v + 1]; k++)
            {
                int a = Find(v), b = Find(OutTarget[k]);
                if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b);
            }
        }
        for (var v = 0; v < n; v++) parent[v] = Find(v);
        return Renumber(parent, out count);
    }

    /// <summary>
    /// Communities by label propagation on the weighted undirected graph: vertices in index order, each takes the
    /// label with the largest summed edge weight among its neighbours (ties: smallest label), until stable or
    /// <paramref name="maxIterations"/> sweeps. Returns a community id per vertex, 0 = largest.
    /// </summary>
    public int[] LabelPropagation(out int count, int maxIterations = 20)
    {
        var n = VertexCount;
        var label = new int[n];
        for (var i = 0; i < n; i++) label[i] = i;
        var weight = new double[n]; // per label, only touched entries non-zero
        var touched = new int[n];
        for (var it = 0; it < maxIterations; it++)
        {
            var changed = false;
            for (var v = 0; v < n; v++)
            {
                int s = UndStart[v], e = UndStart[v + 1];
                if (s == e) continue;
                var nt = 0;
                for (var k = s; k < e; k++)
                {
                    var l = label[UndTarget[k]];
                    if (weight[l] == 0) touched[nt++] = l;
                    weight[l] += UndWeight[k] > 0 ? UndWeight[k] : double.Epsilon;
                }
                var best = label[v];
                var bestW = weight[best];
                for (var j = 0; j < nt; j++)
                {
                    var l = touched[j];
                    var w = weight[l];
                    if (w > bestW + 1e-12 || (Math.Abs(w - bestW) <= 1e-12 && l < best))
                    {
                        best = l;
                        bestW = w;
                    }
                }
                for (var j = 0; j < nt; j++) weight[touched[j]] = 0;
                if (best != label[v])
                {
                    label[v] = best;
                    changed = true;
                }
            }
            if (!changed) break;
        }
        return Renumber(label, out count);
    }

    /// <summary>
    /// Approximate betweenness (Brandes' accumulation from <paramref name="pivots"/> sampled sources, unweighted,
    /// undirected, scaled by n / pivots). Exact when pivots ≥ n.
    /// </summary>
    public double[] Betweenness(int pivots, ulong seed)
    {
        var n = VertexCount;
        var bc = new double[n];
        if (n == 0 || pivots <= 0) return bc;
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        var rng = new SplitMix64(seed);
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var p = Math.Min(pivots, n);
        var sigma = new double[n];
        var dist = new int[n];
        var delta = new double[n];
        var stack = new int[n];
        var queue = new int[n];
        Array.Fill(dist, -1);
        for (var pi = 0; pi < p; pi++)
        {
            var s = order[pi];
            int head = 0, tail = 0, top = 0;
            dist[s] = 0;
            sigma[s] = 1;
            queue[tail++] = s;
            while (head < tail)
            {
                var v = queue[head++];
                stack[top++] = v;
                for (var k = UndStart[v]; k < UndStart[v + 1]; k++)
                {
                    var w = UndTarget[k];
                    if (dist[w] < 0)
                    {
                        dist[w] = dist[v] + 1;
                        queue[tail++] = w;
                    }
                    if (dist[w] == dist[v] + 1) sigma[w] += sigma[v];
                }
            }
            while (top > 0)
            {
                var w = stack[--top];
                for (var k = UndStart[w]; k < UndStart[w + 1]; k++)
                {
                    var v = UndTarget[k];
                    if (dist[v] == dist[w] - 1) delta[v] += sigma[v] / sigma[w] * (1 + delta[w]);
                }
                if (w != s) bc[w] += delta[w];
            }
            // Reset only what this source reached.
            for (var i = 0; i < tail; i++)
            {
                var v = queue[i];
                dist[v] = -1;
                sigma[v] = 0;
                delta[v] = 0;
            }
        }
        var scale = (double)n / p / 2; // undirected: each path counted from both ends
        for (var v = 0; v < n; v++) bc[v] *= scale;
        return bc;
    }

    /// <summary>Relabels raw labels (each in 0..n-1) to 0..count-1 by descending class size, ties by smaller raw label.</summary>
    private static int[] Renumber(int[] raw, out int count)
    {
        var n = raw.Length;
        var size = new int[n];
        foreach (var r in raw) size[r]++;
        var labels = new List<int>();
        for (var l = 0; l < n; l++) if (size[l] > 0) labels.Add(l);
        labels.Sort((x, y) => size[x] != size[y] ? size[y].CompareTo(size[x]) : x.CompareTo(y));
        var id = new int[n];
        for (var i = 0; i < labels.Count; i++) id[labels[i]] = i;
        count = labels.Count;
        var result = new int[n];
        for (var i = 0; i < n; i++) result[i] = id[raw[i]];
        return result;
    }
}
