using EarlyWarning.Core.Buffers;
using EarlyWarning.Models.Onnx;
using EarlyWarning.Models.Training;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyWarning.Models.Serving;

/// <summary>
/// Runs a hashed-feature ONNX model (inputs <c>indices</c>/<c>values</c> [N,K], output <c>probabilities</c> [N,C]) in
/// batches. Thread-safe: InferenceSession.Run is thread-safe and every call rents its own buffers from the pool.
/// Refuses a model whose manifest featuriser parameters the text stage cannot reproduce.
/// A manifest with a <c>tokenizer</c> plugs in any model over token ids instead (<see cref="TokenizedInput"/>).
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    /// <summary>Posts per ONNX Run call.</summary>
    public const int MaxBatch = 256;

    private readonly InferenceSession _session;
    private readonly float[] _bias;
    private readonly TokenizedInput? _tokenized;
    private readonly RunOptions _runOptions = new();
    /// <summary>Run buffers not in use; one exists per concurrent <see cref="PredictFeatures"/> call at most.</summary>
    private readonly Stack<RunBuffers> _idleRunBuffers = new();
    private readonly List<RunBuffers> _allRunBuffers = [];
    private bool _disposed;

    private OnnxClassifier(InferenceSession session, ModelManifest manifest, FeatureHasher hasher, LinearModel? weights, TokenizedInput? tokenized = null)
    {
        _session = session;
        _tokenized = tokenized;
        Manifest = manifest;
        Hasher = hasher;
        Weights = weights;
        Classes = manifest.Labels.Count;
        _bias = manifest.BiasVector();
    }

    public ModelManifest Manifest { get; }
    public FeatureHasher Hasher { get; }
    public int Classes { get; }
    /// <summary>The linear weights read from the ONNX initializers (for explanations); null for other graphs.</summary>
    public LinearModel? Weights { get; }

    /// <summary>Loads <c>model.json</c> and its ONNX file from <paramref name="modelDir"/>.
    /// Throws <see cref="InvalidDataException"/> with the reason when the model cannot be served faithfully.</summary>
    public static OnnxClassifier Load(string modelDir)
    {
        var manifest = ModelManifest.Load(Path.Combine(modelDir, "model.json"));
        if (manifest.Tokenizer is not null) return LoadTokenized(modelDir, manifest);
        if (!manifest.Featurizer.TryToOptions(out var options, out var reason))
            throw new InvalidDataException($"refusing model {manifest.Id} in {modelDir}: {reason}");
        var onnxPath = Path.Combine(modelDir, manifest.ModelFile);
        if (!File.Exists(onnxPath)) throw new InvalidDataException($"model file not found: {onnxPath}");
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        var session = new InferenceSession(onnxPath, so);
        try
        {
            foreach (var name in new[] { OnnxLinearModelWriter.IndicesInput, OnnxLinearModelWriter.ValuesInput })
                if (!session.InputMetadata.ContainsKey(name)) throw new InvalidDataException($"model {onnxPath} has no input '{name}'");
            if (!session.OutputMetadata.ContainsKey(OnnxLinearModelWriter.ProbabilitiesOutput))
                throw new InvalidDataException($"model {onnxPath} has no output 'probabilities'");
            var weights = OnnxLinearModelReader.TryRead(onnxPath);
            if (weights is not null && (weights.Dimension != options!.Dimension || weights.Classes != manifest.Labels.Count))
                throw new InvalidDataException($"model {onnxPath}: weights are [{weights.Dimension},{weights.Classes}] but the manifest says [{options.Dimension},{manifest.Labels.Count}]");
            return new OnnxClassifier(session, manifest, new FeatureHasher(options), weights);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static OnnxClassifier LoadTokenized(string modelDir, ModelManifest manifest)
    {
        var onnxPath = Path.Combine(modelDir, manifest.ModelFile);
        if (!File.Exists(onnxPath)) throw new InvalidDataException($"model file not found: {onnxPath}");
        var tokenized = TokenizedInput.Create(modelDir, manifest);
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        var session = new InferenceSession(onnxPath, so);
        try
        {
            tokenized.Bind(session, onnxPath, manifest.Labels.Count);
            return new OnnxClassifier(session, manifest, new FeatureHasher(FeaturizerOptions.Default), null, tokenized);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The tokenizer path when this is a plug-in token-id model; null for hashed-feature models.</summary>
    public TokenizedInput? Tokenized => _tokenized;

    /// <summary>Writes <c>texts.Count × Classes</c> probabilities (row-major) into <paramref name="probabilities"/>.</summary>
    public void Predict(IReadOnlyList<string> texts, Span<float> probabilities) => PredictAll(texts, probabilities, normalized: false);

    /// <summary>
    /// True when <see cref="PredictNormalized"/> accepts text normalised with <paramref name="steps"/>: a hashed-feature
    /// model whose featuriser normalises with exactly those steps (a token-id model needs the raw text).
    /// </summary>
    public bool AcceptsNormalized(NormalizationSteps steps) => _tokenized is null && Hasher.Options.Normalization == steps;

    /// <summary>
    /// <see cref="Predict"/> over texts already normalised with the featuriser's steps (see <see cref="AcceptsNormalized"/>),
    /// so a caller that needs the normalised text anyway normalises once; the probabilities are bit-identical to
    /// <see cref="Predict"/> over the raw texts.
    /// </summary>
    public void PredictNormalized(IReadOnlyList<string> normalizedTexts, Span<float> probabilities)
    {
        if (_tokenized is not null) throw new InvalidOperationException("a token-id model needs the raw text; call Predict");
        PredictAll(normalizedTexts, probabilities, normalized: true);
    }

    private void PredictAll(IReadOnlyList<string> texts, Span<float> probabilities, bool normalized)
    {
        if (probabilities.Length < texts.Count * Classes) throw new ArgumentException("probabilities span too small", nameof(probabilities));
        for (var start = 0; start < texts.Count; start += MaxBatch)
        {
            var n = Math.Min(MaxBatch, texts.Count - start);
            PredictChunk(texts, start, n, probabilities.Slice(start * Classes, n * Classes), normalized);
        }
    }

    private void PredictChunk(IReadOnlyList<string> texts, int start, int n, Span<float> output, bool normalized)
    {
        if (_tokenized is not null)
        {
            _tokenized.Run(_session, texts, start, n, output, Classes, Manifest.OutputKind == "logits");
            return;
        }
        var width = Hasher.Options.MaxFeatures;
        var idx = SteadyPool<int>.Shared.Rent(n * width);
        var val = SteadyPool<float>.Shared.Rent(n * width);
        var counts = SteadyPool<int>.Shared.Rent(n);
        try
        {
            for (var r = 0; r < n; r++)
            {
                var text = texts[start + r] ?? "";
                counts[r] = normalized
                    ? Hasher.FeaturizeNormalized(text, idx.AsSpan(r * width, width), val.AsSpan(r * width, width))
                    : Hasher.Featurize(text, idx.AsSpan(r * width, width), val.AsSpan(r * width, width));
            }
            PredictFeatures(idx.AsSpan(0, n * width), val.AsSpan(0, n * width), counts.AsSpan(0, n), width, output);
        }
        finally
        {
            SteadyPool<int>.Shared.Return(idx);
            SteadyPool<float>.Shared.Return(val);
            SteadyPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>Rows per ONNX Run once a batch is ordered by feature count (see <see cref="PredictFeatures"/>).</summary>
    public const int RunRows = 64;

    /// <summary>Feature columns of a Run are rounded up to a multiple of this, so a thread meets few input shapes.</summary>
    private const int WidthStep = 16;

    /// <summary>
    /// Runs the model over rows that are already featurised: row <c>r</c>'s feature indices and values are the first
    /// <c>counts[r]</c> entries at <c>r * stride</c> of <paramref name="indices"/> and <paramref name="values"/> (what
    /// <see cref="FeatureHasher.Featurize"/> writes). Writes <c>counts.Length × Classes</c> probabilities, row-major, in
    /// row order. The ONNX input is [rows, K], zero-padded, so the rows are taken longest first, <see cref="RunRows"/>
    /// per Run, and each Run is only as wide as its own longest row (rounded up to <see cref="WidthStep"/>) rather
    /// than the longest post of the whole batch. Padding adds index 0 with value 0, which leaves every sum unchanged;
    /// a short last Run is padded with empty rows whose output is ignored. The tensors of each width are created once
    /// per set of run buffers (one set per concurrent caller) over pinned memory and bound to the session, so a steady
    /// stream allocates nothing.
    /// </summary>
    public void PredictFeatures(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, ReadOnlySpan<int> counts, int stride, Span<float> probabilities)
    {
        if (_tokenized is not null) throw new InvalidOperationException("a token-id model takes text, not hashed features; call Predict");
        var n = counts.Length;
        if (probabilities.Length < n * Classes) throw new ArgumentException("probabilities span too small", nameof(probabilities));
        if (n == 0) return;
        if (stride <= 0 || indices.Length < (n - 1) * stride + counts[n - 1] || values.Length < indices.Length)
            throw new ArgumentException("indices/values are shorter than counts and stride say", nameof(indices));
        var order = SteadyPool<int>.Shared.Rent(n);
        var negCounts = SteadyPool<int>.Shared.Rent(n);
        RunBuffers? buffers = null;
        try
        {
            for (var r = 0; r < n; r++)
            {
                var c = counts[r];
                if ((uint)c > (uint)stride) throw new ArgumentException($"row {r} has {c} features, more than the stride {stride}", nameof(counts));
                order[r] = r;
                negCounts[r] = -c;
            }
            negCounts.AsSpan(0, n).Sort(order.AsSpan(0, n)); // longest rows first
            buffers = RentRunBuffers();
            for (var first = 0; first < n; first += RunRows)
            {
                var rows = Math.Min(RunRows, n - first);
                var k = Math.Max(WidthStep, (-negCounts[first] + WidthStep - 1) / WidthStep * WidthStep);
                var binding = buffers.For(k);
                for (var j = 0; j < RunRows; j++)
                {
                    var c = j < rows ? -negCounts[first + j] : 0;
                    if (c > 0)
                    {
                        var r = order[first + j];
                        indices.Slice(r * stride, c).CopyTo(buffers.Indices.AsSpan(j * k, c));
                        values.Slice(r * stride, c).CopyTo(buffers.Values.AsSpan(j * k, c));
                    }
                    buffers.Indices.AsSpan(j * k + c, k - c).Clear();
                    buffers.Values.AsSpan(j * k + c, k - c).Clear();
                }
                _session.RunWithBinding(_runOptions, binding);
                for (var j = 0; j < rows; j++)
                    buffers.Probabilities.AsSpan(j * Classes, Classes).CopyTo(probabilities.Slice(order[first + j] * Classes, Classes));
            }
        }
        finally
        {
            SteadyPool<int>.Shared.Return(order);
            SteadyPool<int>.Shared.Return(negCounts);
            if (buffers is not null) lock (_idleRunBuffers) _idleRunBuffers.Push(buffers);
        }
    }

    private RunBuffers RentRunBuffers()
    {
        lock (_idleRunBuffers)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idleRunBuffers.TryPop(out var idle)) return idle;
            var created = new RunBuffers(_session, Classes);
            _allRunBuffers.Add(created);
            return created;
        }
    }

    /// <summary>
    /// Pinned input/output buffers for <see cref="RunRows"/> rows of one session, and per Run width the tensors over
    /// them bound to the session's inputs and output (an <see cref="OrtIoBinding"/>): running a bound session allocates
    /// nothing, where <c>Run</c> with names and values builds handle arrays each call. Used by one call at a time
    /// (rented from the classifier), so there are as many as there were concurrent callers, not threads.
    /// </summary>
    private sealed class RunBuffers(InferenceSession session, int classes) : IDisposable
    {
        private readonly Dictionary<int, (OrtIoBinding Binding, OrtValue[] Tensors)> _byWidth = [];

        public int[] Indices { get; private set; } = [];
        public float[] Values { get; private set; } = [];
        public float[] Probabilities { get; } = GC.AllocateArray<float>(RunRows * classes, pinned: true);

        /// <summary>The binding of a Run <paramref name="width"/> columns wide, created on first use.</summary>
        public OrtIoBinding For(int width)
        {
            if (RunRows * width > Indices.Length)
            {
                // Wider than any Run so far: new pinned buffers (at least doubling, so this happens a few times at
                // most), and every tensor over the old ones goes.
                DisposeBindings();
                var columns = Math.Max(width, 2 * Indices.Length / RunRows);
                Indices = GC.AllocateArray<int>(RunRows * columns, pinned: true);
                Values = GC.AllocateArray<float>(RunRows * columns, pinned: true);
            }
            if (_byWidth.TryGetValue(width, out var run)) return run.Binding;
            long[] shape = [RunRows, width];
            OrtValue[] tensors =
            [
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Indices.AsMemory(0, RunRows * width), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Values.AsMemory(0, RunRows * width), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Probabilities.AsMemory(), [RunRows, classes]),
            ];
            var binding = session.CreateIoBinding();
            binding.BindInput(OnnxLinearModelWriter.IndicesInput, tensors[0]);
            binding.BindInput(OnnxLinearModelWriter.ValuesInput, tensors[1]);
            binding.BindOutput(OnnxLinearModelWriter.ProbabilitiesOutput, tensors[2]);
            _byWidth[width] = (binding, tensors);
            return binding;
        }

        private void DisposeBindings()
        {
            foreach (var (binding, tensors) in _byWidth.Values)
            {
                binding.Dispose();
                foreach (var t in tensors) t.Dispose();
            }
            _byWidth.Clear();
        }

        public void Dispose() => DisposeBindings();
    }

    /// <summary>Applies the manifest's decision rule to one row of probabilities; returns the class index.</summary>
    public int Decide(ReadOnlySpan<float> probabilities) => DecisionRule.Decide(probabilities, _bias);

    public void Dispose()
    {
        lock (_idleRunBuffers)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var b in _allRunBuffers) b.Dispose();
            _allRunBuffers.Clear();
            _idleRunBuffers.Clear();
        }
        _session.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>The decision rule shared by training (bias selection) and serving: argmax of ln p + bias.</summary>
public static class DecisionRule
{
    public static int Decide(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> bias)
    {
        var best = 0;
        var bestScore = double.NegativeInfinity;
        for (var c = 0; c < probabilities.Length; c++)
        {
            var s = Math.Log(Math.Max(probabilities[c], 1e-30f)) + (c < bias.Length ? bias[c] : 0f);
            if (s > bestScore) { bestScore = s; best = c; }
        }
        return best;
    }
}
