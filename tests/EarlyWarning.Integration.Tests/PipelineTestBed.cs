using System.Text;
using EarlyWarning.App.Pipeline;
using EarlyWarning.App.Pipeline.Sources;
using EarlyWarning.Core.Privacy;
using EarlyWarning.Core.Stores;
using EarlyWarning.Models.Serving;
using EarlyWarning.Network;
using EarlyWarning.Signals.Engine;
using EarlyWarning.Tests;

namespace EarlyWarning.Integration.Tests;

/// <summary>
/// A simulated election-day stream on disk and a pipeline runner over it with the default model, for tests that
/// watch the runner from the store's side. Dispose it to release the classifier.
/// </summary>
internal sealed class PipelineTestBed : IDisposable
{
    private PipelineTestBed(string dir, string stream, PostClassifier classifier)
    {
        Dir = dir;
        Stream = stream;
        Classifier = classifier;
    }

    public string Dir { get; }
    public string Stream { get; }
    public PostClassifier Classifier { get; }
    public SignalEngine Signals { get; } = new(new SignalOptions());
    public NetworkEngine Network { get; } = new(new NetworkOptions());

    public static async Task<PipelineTestBed> CreateAsync(string name, int seed, int posts)
    {
        var dir = TestPaths.NewTempDir(name);
        var stream = Path.Combine(dir, "sim.jsonl");
        var (rc, _, err) = await EndToEndTests.RunCliAsync("simulate", "--scenario", "election-day", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--posts", posts.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", stream);
        Assert.True(rc == 0, err);
        var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
        return new PipelineTestBed(dir, stream, classifier);
    }

    /// <summary>A bed replaying <paramref name="lines"/> (one post's JSON each) instead of a simulated stream.</summary>
    public static PipelineTestBed FromLines(string name, IEnumerable<string> lines)
    {
        var dir = TestPaths.NewTempDir(name);
        var stream = Path.Combine(dir, "posts.jsonl");
        File.WriteAllLines(stream, lines);
        var classifier = PostClassifier.Load(Path.Combine(TestPaths.RepoRoot, "models", "default"), Path.Combine(TestPaths.RepoRoot, "models", "lexicons"));
        return new PipelineTestBed(dir, stream, classifier);
    }

    /// <summary>A runner replaying the stream into <paramref name="store"/> with this bed's engines.</summary>
    public PipelineRunner Runner(PipelineOptions options, IPipelineStore store) =>
        new(options, new ReplaySource(Stream), store, Classifier, new Pseudonymizer(Encoding.UTF8.GetBytes("pipeline-test-bed-key-0123456789abcdef")),
            Signals, Network);

    public void Dispose() => Classifier.Dispose();
}
