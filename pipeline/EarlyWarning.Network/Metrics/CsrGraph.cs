using EarlyWarning.Network.Internal;

namespace EarlyWarning.Network.Metrics;

/// <summary>
/// A compact compressed-sparse-row copy of a window's graph (vertices 0..n-1 in ordinal account order): the
/// directed weighted out-adjacency for PageRank and the symmetrised adjacency for components, communities and
/// betweenness. Built once per snapshot from the QuikGraph graph; the algorithms here run on flat arrays.
/// </summary>
public sealed class CsrGraph
{
    private CsrGraph(string[] names, int[] outStart, int[] outTarget, double[] outWeight, int[] undStart, int[] undTarget, double[] undWeight)
    {
        Names = names;
        OutStart = outStart;
        OutTarget = outTarget;
        OutWeight = outWeight;
        UndStart = undStart;
        UndTarget = undTarget;
        UndWeight = undWeight;
    }

    public string[] Names { get; }
    internal int[] OutStart { get; }
    internal int[] OutTarget { get; }
    internal double[] OutWeight { get; }
    internal int[] UndStart { get; }
    internal int[] UndTarget { get; }
    internal double[] UndWeight { get; }
    public int VertexCount => Names.Length;
    public int ArcCount => OutTarget.Length;

    /// <summary>Builds the CSR from directed weighted arcs (parallel arcs are merged by summing weights).</summary>
    public static CsrGraph Build(string[] names, IReadOnlyList<(int Source, int Target, double Weight)> arcs)
    {
        var n = names.Length;
        var outStart = new int[n + 1];
        foreach (var (s, _, _) in arcs) outStart[s + 1]++;
        for (var i = 0; i < n; i++) outStart[i + 1] += outStart[i];
        var outTarget = new int[arcs.Count];
        var outWeight = new double[arcs.Count];
        var fill = (int[])outStart.Clone();
        foreach (var (s, t, w) in arcs)
        {
            outTarget[fill[s]] = t;
            outWeight[fill[s]++] = w;
        }
        // Undirected view: one edge per unordered pair, weights of both directions and all kinds summed.
        var und = new Dictionary<(int, int), double>();
        foreach (var (s, t, w) in arcs)
        {
            if (s == t) continue;
            var key = s < t ? (s, t) : (t, s);
            und[key] = und.GetValueOrDefault(key) + w;
        }
        var undStart = new int[n + 1];
        foreach (var ((s, t), _) in und)
        {
            undStart[s + 1]++;
            undStart[t + 1]++;
        }
        for (var i = 0; i < n; i++) undStart[i + 1] += undStart[i];
        var undTarget = new int[undStart[n]];
        var undWeight = new double[undStart[n]];
        fill = (int[])undStart.Clone();
        foreach (var ((s, t), w) in und)
        {
            undTarget[fill[s]] = t;
            undWeight[fill[s]++] = w;
            undTarget[fill[t]] = s;
            undWeight[fill[t]++] = w;
        }
        return new CsrGraph(names, outStart, outTarget, outWeight, undStart, undTarget, undWeight);
    }

    /// <summary>Weighted PageRank (damping d, dangling mass spread uniformly) by power iteration to an L1 change below tol.</summary>
    public double[] PageRank(double damping = 0.85, double tolerance = 1e-6, int maxIterations = 100)
    {
        var n = VertexCount;
        if (n == 0) return [];
        var outSum = new double[n];
        for (var v = 0; v < n; v++)
            for (var k = OutStart[v]; k < OutStart[v + 1]; k++) outSum[v] += OutWeight[k];
        var rank = new double[n];
        var next = new double[n];
        Array.Fill(rank, 1.0 / n);
        for (var it = 0; it < maxIterations; it++)
        {
            var dangling = 0.0;
            for (var v = 0; v < n; v++) if (outSum[v] <= 0) dangling += rank[v];
            var baseRank = ((1 - damping) + (damping * dangling)) / n;
            Array.Fill(next, baseRank);
            for (var v = 0; v < n; v++)
            {
                if (outSum[v] <= 0) continue;
                var share = damping * rank[v] / outSum[v];
                for (var k = OutStart[v]; k < OutStart[v + 1]; k++) next[OutTarget[k]] += share * OutWeight[k];
            }
            var delta = 0.0;
            for (var v = 0; v < n; v++) delta += Math.Abs(next[v] - rank[v]);
            (rank, next) = (next, rank);
            if (delta < tolerance) break;
        }
        return rank;
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
            for (var k = UndStart[v]; k < UndStart[v + 1]; k++)
            {
                int a = Find(v), b = Find(UndTarget[k]);
                if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b);
            }
        }
        var roots = new int[n];
        for (var v = 0; v < n; v++) roots[v] = Find(v);
        return Renumber(roots, out count);
    }

    /// <summary>
    /// Communities by label propagation on the weighted undirected graph: vertices in index order, each takes the
    /// label with the largest summed edge weight among its neighbours (ties: smallest label), until stable.
    /// Returns a community id per vertex, 0 = largest.
    /// </summary>
    public int[] LabelPropagation(out int count, int maxIterations = 20)
    {
        var n = VertexCount;
        var label = new int[n];
        for (var i = 0; i < n; i++) label[i] = i;
        var weight = new Dictionary<int, double>();
        for (var it = 0; it < maxIterations; it++)
        {
            var changed = false;
            for (var v = 0; v < n; v++)
            {
                if (UndStart[v] == UndStart[v + 1]) continue;
                weight.Clear();
                for (var k = UndStart[v]; k < UndStart[v + 1]; k++)
                {
                    var l = label[UndTarget[k]];
                    weight[l] = weight.GetValueOrDefault(l) + UndWeight[k];
                }
                int best = label[v];
                var bestW = weight.GetValueOrDefault(best);
                foreach (var (l, w) in weight)
                {
                    if (w > bestW + 1e-12 || (Math.Abs(w - bestW) <= 1e-12 && l < best))
                    {
                        best = l;
                        bestW = w;
                    }
                }
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
        if (n == 0) return bc;
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
        for (var pi = 0; pi < p; pi++)
        {
            var s = order[pi];
            Array.Fill(dist, -1);
            Array.Clear(sigma);
            Array.Clear(delta);
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
        }
        var scale = (double)n / p / 2; // undirected: each path counted from both ends
        for (var v = 0; v < n; v++) bc[v] *= scale;
        return bc;
    }

    private static int[] Renumber(int[] raw, out int count)
    {
        var size = new Dictionary<int, int>();
        foreach (var r in raw) size[r] = size.GetValueOrDefault(r) + 1;
        // Largest first; ties by the smallest raw label (the smallest member index) for determinism.
        var ids = size.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select((kv, i) => (kv.Key, i)).ToDictionary(x => x.Key, x => x.i);
        count = ids.Count;
        var result = new int[raw.Length];
        for (var i = 0; i < raw.Length; i++) result[i] = ids[raw[i]];
        return result;
    }
}
