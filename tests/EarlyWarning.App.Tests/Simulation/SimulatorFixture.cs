using System.Diagnostics;
using System.Security.Cryptography;
using EarlyWarning.App.Simulation;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Tests.Simulation;

/// <summary>One default-volume stream (seed 1), generated once and decoded, shared by the simulator tests.</summary>
public sealed class SimulatorFixture
{
    public SimulatorFixture()
    {
        var sw = Stopwatch.StartNew();
        Simulator = new Simulator();
        PlanTime = sw.Elapsed;
        Raw = [.. Simulator.Generate()];
        GenerateTime = sw.Elapsed - PlanTime;
        var decoder = new PostDecoder();
        Posts = new Post[Raw.Length];
        DecodeFailures = [];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < Raw.Length; i++)
        {
            sha.AppendData(Raw[i].Json);
            sha.AppendData("\n"u8);
            if (decoder.TryDecode(Raw[i].Json, out var post, out var reason)) Posts[i] = post!;
            else DecodeFailures.Add($"{i}: {reason}");
        }
        Hash = Convert.ToHexString(sha.GetHashAndReset());
        IndexById = new Dictionary<string, int>(Posts.Length, StringComparer.Ordinal);
        for (var i = 0; i < Posts.Length; i++)
            if (Posts[i] is { } p) IndexById.TryAdd(p.Id, i);
    }

    public Simulator Simulator { get; }
    public GroundTruth Truth => Simulator.Truth;
    public SimulatedPost[] Raw { get; }
    public Post[] Posts { get; }
    public List<string> DecodeFailures { get; }
    public string Hash { get; }
    public Dictionary<string, int> IndexById { get; }
    public TimeSpan PlanTime { get; }
    public TimeSpan GenerateTime { get; }

    public Incident Incident(string kind) => Truth.Incidents.Single(i => i.Kind == kind);

    public static string StreamHash(IEnumerable<SimulatedPost> posts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in posts)
        {
            sha.AppendData(p.Json);
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }
}

[CollectionDefinition(Name)]
public sealed class SimulatorCollection : ICollectionFixture<SimulatorFixture>
{
    public const string Name = "simulator";
}
