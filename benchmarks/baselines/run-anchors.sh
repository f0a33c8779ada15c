#!/usr/bin/env bash
# External anchors in one run, beside ours on the same inputs:
#  - fastText (Debian package `fasttext`) trained on Davidson, `fasttext predict` over N lines, vs our default model;
#  - igraph (Debian `python3-igraph`) PageRank on the simulator's window graph, vs our CsrGraph PageRank and QuikGraph.
# Usage (from the repository root): bash benchmarks/baselines/run-anchors.sh [LINES] [GRAPH_POSTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-100000}
graph_posts=${2:-200000}
shared=${EARLYWARNING_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v fasttext >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fasttext >/dev/null; }
/usr/bin/python3 -c 'import igraph' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-igraph >/dev/null; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet build benchmarks/EarlyWarning.Benchmarks/EarlyWarning.Benchmarks.csproj -c Release -nologo -clp:ErrorsOnly >/dev/null
bench="dotnet benchmarks/EarlyWarning.Benchmarks/bin/Release/net10.0/EarlyWarning.Benchmarks.dll"

# Davidson → fastText format (class 0 hate, 1 offensive, 2 neither) and a plain text file of N lines (cycled).
/usr/bin/python3 - "$shared/data/davidson-hate-offensive/labeled_data.csv" "$work" "$lines" <<'PY'
import csv, sys, itertools
src, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = {"0": "hate", "1": "offensive", "2": "none"}
texts = []
with open(src, newline="", encoding="utf-8") as f, open(work + "/train.txt", "w", encoding="utf-8") as t:
    for row in csv.DictReader(f):
        text = " ".join(row["tweet"].split())
        if not text:
            continue
        texts.append(text)
        t.write("__label__" + names[row["class"]] + " " + text + "\n")
with open(work + "/predict.txt", "w", encoding="utf-8") as p:
    for text in itertools.islice(itertools.cycle(texts), n):
        p.write(text + "\n")
print(f"davidson: {len(texts)} training texts; predict file: {n} lines")
PY

echo "--- classify: ours on the same $lines lines"
$bench anchor classify-file "$work/predict.txt"
echo "--- classify: fastText (supervised, wordNgrams 2, char 3-5, dim 16, 1 thread)"
fasttext supervised -input "$work/train.txt" -output "$work/ft" -wordNgrams 2 -minn 3 -maxn 5 -dim 16 -epoch 5 -thread 1 -verbose 0
head -1 "$work/predict.txt" > "$work/one.txt"
t0=$(date +%s.%N); fasttext predict "$work/ft.bin" "$work/one.txt" >/dev/null; t1=$(date +%s.%N)
fasttext predict "$work/ft.bin" "$work/predict.txt" >/dev/null; t2=$(date +%s.%N)
/usr/bin/python3 -c "import sys; load=$t1-$t0; total=$t2-$t1; n=$lines; print(f'fastText predict: {n} lines in {total:.3f} s incl. model load ({load:.3f} s for 1 line) = {n/(total-load):.0f} posts/s excluding load, {n/total:.0f} including')"

echo "--- PageRank: ours and QuikGraph on the window graph of $graph_posts simulator posts"
$bench anchor graph-export "$work/graph.txt" "$graph_posts"
echo "--- PageRank: igraph on the same edge list"
/usr/bin/python3 - "$work/graph.txt" <<'PY'
import sys, time, igraph
edges, weights, n = [], [], 0
with open(sys.argv[1]) as f:
    n = int(f.readline().split()[2])
    for line in f:
        s, t, w = line.split()
        edges.append((int(s), int(t))); weights.append(float(w))
g = igraph.Graph(n=n, edges=edges, directed=True)
g.es["weight"] = weights
g.pagerank(weights="weight", damping=0.85)
best = float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    g.pagerank(weights="weight", damping=0.85)
    best = min(best, time.perf_counter() - t0)
print(f"igraph {igraph.__version__} pagerank (PRPACK, weighted, d=0.85): {best*1e3:.2f} ms (best of 5) on {g.vcount()} vertices, {g.ecount()} arcs")
PY
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
