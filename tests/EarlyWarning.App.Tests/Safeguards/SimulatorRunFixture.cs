using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;
using EarlyWarning.Tests;

namespace EarlyWarning.App.Tests.Safeguards;

/// <summary>
/// One 50k-post simulator run through the whole pipeline into a SQLite file (pseudonymisation on, the default),
/// shared by the privacy and transparency-report tests, with the raw account ids and handles of its input.
/// </summary>
public sealed class SimulatorRunFixture : IAsyncLifetime
{
    public const int Posts = 50_000;

    public string Dir { get; } = TestPaths.NewTempDir("ew-sg-run");
    public string Db => Path.Combine(Dir, "ew.db");
    public string Log { get; private set; } = "";
    public int ExitCode { get; private set; }
    public HashSet<string> RawIds { get; } = new(StringComparer.Ordinal);
    public HashSet<string> RawHandles { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        var decoder = new PostDecoder();
        foreach (var p in new Simulator("election-day", 1, Posts).Generate())
        {
            if (!decoder.TryDecode(p.Json, out var post, out _)) continue;
            RawIds.Add(post!.AuthorId);
            foreach (var m in post.Mentions) RawIds.Add(m);
            if (!string.IsNullOrEmpty(post.AuthorHandle)) RawHandles.Add(post.AuthorHandle);
        }
        var output = new StringWriter();
        var errors = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        ExitCode = await Cli.RunAsync(
            ["run", "--source", "simulate", "--seed", "1", "--posts", Posts.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--until-end", "--no-dashboard", "--store", "sqlite:" + Db, "--data-dir", Dir],
            output, errors, TextReader.Null, timeout.Token);
        Log = output + "\n" + errors;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { /* a scratch folder left behind is harmless */ }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class SimulatorRunCollection : ICollectionFixture<SimulatorRunFixture>
{
    public const string Name = "safeguards simulator run";
}
