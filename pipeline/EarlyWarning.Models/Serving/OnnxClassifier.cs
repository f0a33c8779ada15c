using System.Buffers;
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
    private readonly string[] _inputNames = [OnnxLinearModelWriter.IndicesInput, OnnxLinearModelWriter.ValuesInput];
    private readonly string[] _outputNames = [OnnxLinearModelWriter.ProbabilitiesOutput];
    private readonly float[] _bias;
    private readonly TokenizedInput? _tokenized;

    private OnnxClassifier(InferenceSession session, ModelManifest manifest, FeatureHasher hasher, LinearModel? weights, TokenizedInput? tokenized = null)
    {
        _session = session;
        _tokenized = tokenized;
        if (tokenized is not null)
        {
            _inputNames = tokenized.InputNames;
            _outputNames = [tokenized.OutputName];
        }
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
        var idx = ArrayPool<int>.Shared.Rent(n * width);
        var val = ArrayPool<float>.Shared.Rent(n * width);
        var counts = ArrayPool<int>.Shared.Rent(n);
        var probs = ArrayPool<float>.Shared.Rent(n * Classes);
        try
        {
            var k = 1;
            for (var r = 0; r < n; r++)
            {
                var text = texts[start + r] ?? "";
                counts[r] = normalized
                    ? Hasher.FeaturizeNormalized(text, idx.AsSpan(r * width, width), val.AsSpan(r * width, width))
                    : Hasher.Featurize(text, idx.AsSpan(r * width, width), val.AsSpan(r * width, width));
                k = Math.Max(k, counts[r]);
            }
            // Compact rows from stride `width` to stride `k` in place (k <= width, so moving forward is safe), zero-padding.
            for (var r = 0; r < n; r++)
            {
                var c = counts[r];
                if (k != width)
                {
                    idx.AsSpan(r * width, c).CopyTo(idx.AsSpan(r * k, c));
                    val.AsSpan(r * width, c).CopyTo(val.AsSpan(r * k, c));
                }
                idx.AsSpan(r * k + c, k - c).Clear();
                val.AsSpan(r * k + c, k - c).Clear();
            }
            var shape = new long[] { n, k };
            using var idxValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, idx.AsMemory(0, n * k), shape);
            using var valValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, val.AsMemory(0, n * k), shape);
            using var outValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, probs.AsMemory(0, n * Classes), [n, Classes]);
            using var runOptions = new RunOptions();
            _session.Run(runOptions, _inputNames, [idxValue, valValue], _outputNames, [outValue]);
            probs.AsSpan(0, n * Classes).CopyTo(output);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(idx);
            ArrayPool<float>.Shared.Return(val);
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<float>.Shared.Return(probs);
        }
    }

    /// <summary>Applies the manifest's decision rule to one row of probabilities; returns the class index.</summary>
    public int Decide(ReadOnlySpan<float> probabilities) => DecisionRule.Decide(probabilities, _bias);

    public void Dispose() => _session.Dispose();
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
