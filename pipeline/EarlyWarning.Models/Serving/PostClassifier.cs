using EarlyWarning.Core.Buffers;
using EarlyWarning.Core.Posts;
using EarlyWarning.Models.Lexicons;
using EarlyWarning.Text.Features;
using EarlyWarning.Text.Normalization;

namespace EarlyWarning.Models.Serving;

/// <summary>
/// The classify stage: ONNX model + lexicons → <see cref="Decision"/> per post. A post is <c>hate</c> when the model says
/// so or when it matches a slur/dehumanising/incitement/coded lexicon entry (lexicons cover languages the model does
/// not); <c>offensive</c> entries raise <c>none</c> to <c>offensive</c>; <c>identity</c> entries only set the target.
/// Thread-safe.
/// </summary>
public sealed class PostClassifier : IDisposable
{
    /// <summary>How many word n-grams an explanation lists.</summary>
    public const int ExplanationNgrams = 5;

    /// <summary>Explanation entry of a flagged post in a script the model was not trained on (followed by the script key).</summary>
    public const string UntrainedScriptNote = "model:abstained:untrained-script:";

    private static readonly int HateIndex = Array.IndexOf(Labels.All, Labels.Hate);
    private static readonly int NoneIndex = Array.IndexOf(Labels.All, Labels.None);
    private readonly int[] _labelMap; // model class index -> Labels.All index (-1 when unknown)
    private readonly Labeller _served;

    public PostClassifier(OnnxClassifier model, Lexicon lexicon)
    {
        Model = model;
        Lexicon = lexicon;
        _labelMap = model.Manifest.Labels.Select(l => Array.IndexOf(Labels.All, l)).ToArray();
        _served = new Labeller(model, _labelMap);
    }

    public OnnxClassifier Model { get; }
    public Lexicon Lexicon { get; }

    // A model that labels posts: the served model, or a script model for the posts in its scripts.
    private sealed record Labeller(OnnxClassifier Model, int[] LabelMap);

    private volatile Labeller[] _scriptModels = [];

    /// <summary>Models that label the posts the served model was not trained on, by script (see <see cref="AttachScriptModel"/>).</summary>
    public IReadOnlyList<OnnxClassifier> ScriptModels => _scriptModels.Select(l => l.Model).ToList();

    /// <summary>
    /// Adds a model for posts in scripts the served model was not trained on (its manifest's <c>trained_scripts</c>
    /// names them; e.g. a Burmese model trained on myHateSpeech): such a post is labelled by the first script model
    /// trained on its script instead of by the lexicons alone, and its decision names that model. A script model must
    /// list its scripts. This classifier owns and disposes it.
    /// </summary>
    public void AttachScriptModel(OnnxClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Manifest.TrainedScripts is not { Count: > 0 })
            throw new ArgumentException($"script model {model.Manifest.Id} does not list the scripts it was trained on (trained_scripts)", nameof(model));
        var map = model.Manifest.Labels.Select(l => Array.IndexOf(Labels.All, l)).ToArray();
        _scriptModels = [.. _scriptModels, new Labeller(model, map)];
    }

    /// <summary>Loads the model directory <paramref name="modelDir"/> as a script model (see <see cref="AttachScriptModel"/>).</summary>
    public void LoadScriptModel(string modelDir)
    {
        var model = OnnxClassifier.Load(modelDir);
        try { AttachScriptModel(model); }
        catch { model.Dispose(); throw; }
    }

    private sealed record ShadowState(OnnxClassifier Model, int[] LabelMap, ShadowRecorder Recorder);

    private volatile ShadowState? _shadow;

    /// <summary>The shadow model scoring the same posts, or null.</summary>
    public OnnxClassifier? ShadowModel => _shadow?.Model;

    /// <summary>
    /// Scores every later batch with <paramref name="shadow"/> too (shadow mode): its decisions are never served, only
    /// compared with the served ones; see <see cref="ShadowReport"/>. Replaces (and disposes) an earlier shadow.
    /// This classifier owns and disposes the shadow model.
    /// </summary>
    public void AttachShadow(OnnxClassifier shadow)
    {
        ArgumentNullException.ThrowIfNull(shadow);
        var map = shadow.Manifest.Labels.Select(l => Array.IndexOf(Labels.All, l)).ToArray();
        var old = _shadow;
        _shadow = new ShadowState(shadow, map, new ShadowRecorder(ModelId, shadow.Manifest.Id));
        old?.Model.Dispose();
    }

    /// <summary>Loads the model directory <paramref name="modelDir"/> as the shadow model (see <see cref="AttachShadow"/>).</summary>
    public void LoadShadow(string modelDir) => AttachShadow(OnnxClassifier.Load(modelDir));

    /// <summary>What the shadow model did so far; null when none is attached.</summary>
    public ShadowReport? ShadowReport => _shadow?.Recorder.Snapshot();
    /// <summary>"name@version" written into every decision.</summary>
    public string ModelId => Model.Manifest.Id;

    /// <summary>Loads the model directory and every <c>*.tsv</c> lexicon in <paramref name="lexiconDir"/>.</summary>
    public static PostClassifier Load(string modelDir, string lexiconDir) =>
        new(OnnxClassifier.Load(modelDir), Lexicon.LoadDirectory(lexiconDir));

    /// <summary>Loads the default model and lexicons (<see cref="ModelPaths"/>).</summary>
    public static PostClassifier LoadDefault() => Load(ModelPaths.DefaultModelDir, ModelPaths.DefaultLexiconDir);

    /// <summary>
    /// The normalisation steps of the text <see cref="ClassifyBatch(IReadOnlyList{PostEnvelope}, string[])"/> hands
    /// back (the lexicon's; the default steps for the shipped lexicons).
    /// </summary>
    public NormalizationSteps TextNormalization => Lexicon.NormalizationSteps;

    /// <summary>Fills <see cref="PostEnvelope.Decision"/> of every envelope in the batch.</summary>
    public void ClassifyBatch(IReadOnlyList<PostEnvelope> batch) => ClassifyBatch(batch, null);

    /// <summary>
    /// Fills <see cref="PostEnvelope.Decision"/> of every envelope in the batch and, when <paramref name="normalized"/>
    /// is given (at least <c>batch.Count</c> long), writes each post's text normalised with
    /// <see cref="TextNormalization"/> into it: every post is normalised once, for the model's features, the lexicon
    /// and the explanations alike, and the caller can reuse the result (MinHash, token hashes) instead of normalising
    /// again.
    /// </summary>
    public void ClassifyBatch(IReadOnlyList<PostEnvelope> batch, string[]? normalized)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (normalized is not null && normalized.Length < batch.Count)
            throw new ArgumentException($"normalized holds {normalized.Length} texts but the batch has {batch.Count}", nameof(normalized));
        if (batch.Count == 0) return;
        var texts = new string[batch.Count];
        for (var i = 0; i < texts.Length; i++) texts[i] = batch[i].Post.Text ?? "";
        var decisions = Classify(texts, i => batch[i].Post.Id, normalized);
        for (var i = 0; i < batch.Count; i++) batch[i].Decision = decisions[i];
    }

    /// <summary>Classifies raw texts (the <c>classify</c> command); ids are "line:N".</summary>
    public Decision[] ClassifyTexts(IReadOnlyList<string> texts) => Classify(texts, i => "line:" + (i + 1), null);

    private Decision[] Classify(IReadOnlyList<string> texts, Func<int, string> id, string[]? normalizedOut)
    {
        var c = Model.Classes;
        var shadow = _shadow;
        var sc = shadow?.Model.Classes ?? 0;
        // One normalisation per post, shared by the features, the lexicon match and the explanations.
        var norm = normalizedOut ?? new string[texts.Count];
        for (var i = 0; i < texts.Count; i++) norm[i] = texts[i].Length == 0 ? "" : Lexicon.Normalize(texts[i]);
        var steps = Lexicon.NormalizationSteps;
        var probs = SteadyPool<float>.Shared.Rent(Math.Max(1, texts.Count * c));
        var shadowProbs = shadow is null ? null : SteadyPool<float>.Shared.Rent(Math.Max(1, texts.Count * sc));
        try
        {
            Predict(Model, texts, norm, steps, probs);
            if (shadow is not null) Predict(shadow.Model, texts, norm, steps, shadowProbs!);
            var result = new Decision[texts.Count];
            var compared = shadow is null ? null : new (string, string, string, float)[texts.Count];
            // The script key is needed only when a model restricts its scripts (found once per post for all models).
            var scriptModels = _scriptModels;
            string?[]? script = null;
            if (Model.Manifest.TrainedScripts is not null || shadow?.Model.Manifest.TrainedScripts is not null)
            {
                script = new string?[texts.Count];
                for (var i = 0; i < texts.Count; i++) script[i] = texts[i].Length > 0 ? ModelManifest.ScriptOf(norm[i]) : null;
            }
            // Posts the served model was not trained on go to the first script model trained on their script.
            var routed = script is null ? null : RouteToScriptModels(texts, norm, steps, script, scriptModels);
            for (var i = 0; i < texts.Count; i++)
            {
                var route = routed?[i];
                var by = route?.By ?? _served;
                var modelRow = route is { } r ? r.Probs.AsSpan() : probs.AsSpan(i * c, c);
                var postScript = script?[i];
                result[i] = Decide(by, id(i), texts[i], norm[i], postScript, by.Model.Hasher.Options.Normalization == steps, modelRow, out var lexiconHate, out var lexiconOffensive);
                if (shadow is { } s)
                {
                    var row = shadowProbs.AsSpan(i * sc, sc);
                    var k = s.Model.Decide(row);
                    var shadowLabel = s.LabelMap[k] >= 0 && (postScript is null || s.Model.Manifest.CoversScript(postScript)) ? Labels.All[s.LabelMap[k]] : Labels.None;
                    var label = ApplyLexicon(shadowLabel, lexiconHate, lexiconOffensive);
                    var hate = 0f;
                    for (var j = 0; j < sc; j++) if (s.LabelMap[j] == HateIndex) hate += row[j];
                    compared![i] = (result[i].PostId, result[i].Label, label, Math.Abs(hate - result[i].Scores[HateIndex]));
                }
            }
            if (compared is not null) shadow!.Recorder.Record(compared);
            return result;
        }
        finally
        {
            SteadyPool<float>.Shared.Return(probs);
            if (shadowProbs is not null) SteadyPool<float>.Shared.Return(shadowProbs);
        }
    }

    // For each post the served model was not trained on and a script model was: that model and its probabilities
    // (one batched prediction per script model). Null when no post is routed.
    private (Labeller By, float[] Probs)?[]? RouteToScriptModels(IReadOnlyList<string> texts, string[] norm, NormalizationSteps steps,
        string?[] script, Labeller[] scriptModels)
    {
        if (scriptModels.Length == 0) return null;
        (Labeller, float[])?[]? routed = null;
        foreach (var sm in scriptModels)
        {
            var rows = new List<int>();
            for (var i = 0; i < texts.Count; i++)
                if (script[i] is { } key && routed?[i] is null && !Model.Manifest.CoversScript(key) && sm.Model.Manifest.CoversScript(key)) rows.Add(i);
            if (rows.Count == 0) continue;
            routed ??= new (Labeller, float[])?[texts.Count];
            var sub = rows.Select(i => texts[i]).ToList();
            var subNorm = rows.Select(i => norm[i]).ToArray();
            var classes = sm.Model.Classes;
            var p = new float[rows.Count * classes];
            Predict(sm.Model, sub, subNorm, steps, p);
            for (var j = 0; j < rows.Count; j++) routed[rows[j]] = (sm, p.AsSpan(j * classes, classes).ToArray());
        }
        return routed;
    }

    // The model's features from the shared normalised text when its featuriser normalises the same way (same
    // probabilities, bit for bit), else from the raw text.
    private static void Predict(OnnxClassifier model, IReadOnlyList<string> texts, string[] norm, NormalizationSteps steps, float[] probs)
    {
        if (!model.AcceptsNormalized(steps)) model.Predict(texts, probs);
        else if (norm.Length == texts.Count) model.PredictNormalized(norm, probs);
        else model.PredictNormalized(new ArraySegment<string>(norm, 0, texts.Count), probs);
    }

    private static string ApplyLexicon(string modelLabel, bool lexiconHate, bool lexiconOffensive) =>
        lexiconHate ? Labels.Hate : lexiconOffensive && modelLabel == Labels.None ? Labels.Offensive : modelLabel;

    private Decision Decide(Labeller by, string postId, string text, string normalized, string? script, bool describeNormalized, ReadOnlySpan<float> modelProbs,
        out bool lexiconHate, out bool lexiconOffensive)
    {
        var model = by.Model;
        var labelMap = by.LabelMap;
        var scores = new float[Labels.All.Length];
        for (var k = 0; k < modelProbs.Length; k++)
            if (labelMap[k] >= 0) scores[labelMap[k]] += modelProbs[k];
        var modelClass = model.Decide(modelProbs);
        var label = labelMap[modelClass] >= 0 ? Labels.All[labelMap[modelClass]] : Labels.None;
        // A script the model was not trained on: its scores are collisions with other languages' n-grams, so the
        // model abstains and the lexicons alone label the post (the scores are still reported).
        var untrainedScript = script is not null && !model.Manifest.CoversScript(script);
        if (untrainedScript) label = Labels.None;
        lexiconOffensive = false;

        var matches = text.Length == 0 ? [] : Lexicon.MatchNormalized(normalized);
        float incitement = 0, dehumanisation = 0;
        LexiconEntry? targetEntry = null;
        var hateful = false;
        foreach (var m in matches)
        {
            var e = m.Entry;
            if (LexiconCategories.IsHateful(e.Category)) hateful = true;
            if (e.Category == LexiconCategories.Offensive) lexiconOffensive = true;
            if (e.Category == LexiconCategories.Offensive && label == Labels.None) label = Labels.Offensive;
            if (e.Category == LexiconCategories.Incitement) incitement = Math.Max(incitement, SeverityScore(e.Severity));
            if (e.Category == LexiconCategories.Dehumanising) dehumanisation = Math.Max(dehumanisation, SeverityScore(e.Severity));
            if (e.Target is not null && (targetEntry is null || TargetRank(e) > TargetRank(targetEntry))) targetEntry = e;
        }
        if (hateful) label = Labels.Hate;
        lexiconHate = hateful;

        var decision = new Decision
        {
            PostId = postId,
            Label = label,
            Scores = scores,
            Incitement = incitement,
            Dehumanisation = dehumanisation,
            Target = targetEntry?.Target,
            Model = model.Manifest.Id,
        };
        foreach (var m in matches)
            if (!decision.Terms.Contains(m.Entry.Normalized)) decision.Terms.Add(m.Entry.Normalized);
        if (decision.IsFlagged)
        {
            foreach (var m in matches.Where(m => m.Entry.Category != LexiconCategories.Identity).OrderByDescending(m => m.Entry.Severity))
            {
                var s = $"lexicon:{m.Entry.Category}:{m.Entry.Normalized}";
                if (!decision.Explanation.Contains(s)) decision.Explanation.Add(s);
            }
            if (untrainedScript)
            {
                decision.Explanation.Add(UntrainedScriptNote + script);
                return decision; // the model's n-grams explain nothing in a script it never saw
            }
            var explainClass = label == Labels.None ? HateIndex : Array.IndexOf(Labels.All, label);
            // The n-grams are the featuriser's: its normalisation, when the lexicon's differs.
            var featureText = describeNormalized ? normalized : model.Hasher.Normalizer.Normalize(text);
            AddTopNgramsNormalized(model, featureText, explainClass, ExplanationNgrams, decision.Explanation);
        }
        return decision;
    }

    /// <summary>The word n-grams of <paramref name="text"/> that push most towards <paramref name="labelIndex"/> rather than none.</summary>
    public IReadOnlyList<string> TopNgrams(string text, int labelIndex, int count)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Model.Weights is null || text.Length == 0) return [];
        var output = new List<string>(count);
        AddTopNgramsNormalized(Model, Model.Hasher.Normalizer.Normalize(text), labelIndex, count, output);
        return output;
    }

    // Scratch for AddTopNgramsNormalized, per thread (ClassifyBatch may run on several).
    [ThreadStatic] private static WordNgram[]? t_ngrams;
    [ThreadStatic] private static Scored[]? t_scored;

    private readonly record struct Scored(float Contribution, WordNgram Ngram);

    /// <summary>
    /// The <paramref name="count"/> distinct word n-grams of <paramref name="norm"/> (text normalised with the
    /// featuriser's steps) that push most towards <paramref name="labelIndex"/> rather than none, largest push first and
    /// ties by ordinal text, appended to <paramref name="output"/>. The n-grams are ranked by position and weight and only
    /// the chosen few become strings (a flagged post used to get a string, a tuple and a dictionary entry per n-gram).
    /// </summary>
    private static void AddTopNgramsNormalized(OnnxClassifier model, string norm, int labelIndex, int count, List<string> output)
    {
        var w = model.Weights;
        if (w is null || norm.Length == 0) return;
        var modelLabel = model.Manifest.Labels.IndexOf(Labels.All[labelIndex]);
        var modelNone = model.Manifest.Labels.IndexOf(Labels.All[NoneIndex]);
        if (modelLabel < 0) return;
        var max = FeatureHasher.MaxWordNgrams(norm.Length);
        if (t_ngrams is null || t_ngrams.Length < max)
        {
            t_ngrams = new WordNgram[Math.Max(max, 256)];
            t_scored = new Scored[t_ngrams.Length];
        }
        var ngrams = t_ngrams;
        var scored = t_scored!;
        var n = model.Hasher.DescribeNormalized(norm, ngrams);
        // Only n-grams that push towards the label; an n-gram's weight follows from its text, so repeats weigh the same.
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            var row = ngrams[i].Index * w.Classes;
            var contribution = ngrams[i].Sign * (w.Weights[row + modelLabel] - (modelNone >= 0 ? w.Weights[row + modelNone] : 0f));
            if (contribution > 0) scored[kept++] = new Scored(contribution, ngrams[i]);
        }
        scored.AsSpan(0, kept).Sort(new ByContribution(norm));
        var taken = 0;
        for (var i = 0; i < kept && taken < count; i++)
        {
            if (i > 0 && WordNgram.CompareOrdinal(norm, scored[i - 1].Ngram, scored[i].Ngram) == 0) continue; // the same text again
            output.Add(scored[i].Ngram.ToString(norm));
            taken++;
        }
    }

    // Largest contribution first, ties by the n-grams' ordinal text.
    private readonly struct ByContribution(string norm) : IComparer<Scored>
    {
        public int Compare(Scored x, Scored y)
        {
            var c = y.Contribution.CompareTo(x.Contribution);
            return c != 0 ? c : WordNgram.CompareOrdinal(norm, x.Ngram, y.Ngram);
        }
    }

    private static float SeverityScore(int severity) => severity switch { >= 3 => 0.95f, 2 => 0.8f, _ => 0.6f };

    private static int TargetRank(LexiconEntry e) =>
        (LexiconCategories.IsHateful(e.Category) ? 10 : e.Category == LexiconCategories.Identity ? 5 : 0) + e.Severity;

    public void Dispose()
    {
        Model.Dispose();
        _shadow?.Model.Dispose();
        foreach (var sm in _scriptModels) sm.Model.Dispose();
    }
}
