using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.App.Simulation;

/// <summary>One injected incident: what happened, where, when, and every account and post involved.</summary>
public sealed class Incident
{
    public required string Id { get; init; }

    /// <summary>An alert kind (<see cref="AlertKinds"/>).</summary>
    public required string Kind { get; init; }

    public required Scope Scope { get; init; }
    public required DateTimeOffset Onset { get; init; }
    public required DateTimeOffset End { get; init; }

    /// <summary>Raw simulator account ids involved (for a campaign: the coordinated cluster only).</summary>
    public IReadOnlyList<string> Accounts { get; init; } = [];

    /// <summary>Every post the simulator generated for this incident.</summary>
    public IReadOnlyList<string> PostIds { get; init; } = [];

    /// <summary>Organic accounts that used the campaign's hashtag in the same period; a detector must not flag them.</summary>
    public IReadOnlyList<string> DecoyAccounts { get; init; } = [];

    /// <summary>Posts by the decoy accounts.</summary>
    public IReadOnlyList<string> DecoyPostIds { get; init; } = [];

    /// <summary>One plain sentence for people reading the truth file.</summary>
    public string? Description { get; init; }
}

/// <summary>
/// The incidents a simulated stream contains (ARCHITECTURE.md, "Ground truth"). Planned before generation
/// starts, so it is complete as soon as the <see cref="Simulator"/> is constructed.
/// </summary>
public sealed class GroundTruth
{
    public required string Scenario { get; init; }
    public required int Seed { get; init; }

    /// <summary>Number of posts in the stream.</summary>
    public required int Posts { get; init; }

    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public required IReadOnlyList<Incident> Incidents { get; init; }

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the ground truth as JSON to <paramref name="path"/> (directories are created).</summary>
    public void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        WriteJson(stream);
    }

    /// <summary>Writes the ground truth as JSON to a stream.</summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        w.WriteStartObject();
        w.WriteString("scenario", Scenario);
        w.WriteNumber("seed", Seed);
        w.WriteNumber("posts", Posts);
        w.WriteString("start", FormatTime(Start));
        w.WriteString("end", FormatTime(End));
        w.WriteStartArray("incidents");
        foreach (var inc in Incidents)
        {
            w.WriteStartObject();
            w.WriteString("id", inc.Id);
            w.WriteString("kind", inc.Kind);
            w.WriteStartObject("scope");
            WriteNullable(w, "country", inc.Scope.Country);
            WriteNullable(w, "region", inc.Scope.Region);
            WriteNullable(w, "target_group", inc.Scope.TargetGroup);
            WriteNullable(w, "language", inc.Scope.Language);
            WriteNullable(w, "term", inc.Scope.Term);
            w.WriteEndObject();
            w.WriteString("onset", FormatTime(inc.Onset));
            w.WriteString("end", FormatTime(inc.End));
            if (inc.Description is not null) w.WriteString("description", inc.Description);
            WriteArray(w, "accounts", inc.Accounts);
            WriteArray(w, "post_ids", inc.PostIds);
            if (inc.DecoyAccounts.Count > 0 || inc.Kind == AlertKinds.CoordinatedCampaign)
            {
                WriteArray(w, "decoy_accounts", inc.DecoyAccounts);
                WriteArray(w, "decoy_post_ids", inc.DecoyPostIds);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads a ground-truth file written by <see cref="WriteJson(string)"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a ground-truth document.</exception>
    public static GroundTruth Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>Reads a ground-truth document from a stream.</summary>
    /// <exception cref="InvalidDataException">The document is not a ground-truth document.</exception>
    public static GroundTruth Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;
            var incidents = new List<Incident>();
            foreach (var e in root.GetProperty("incidents").EnumerateArray())
            {
                var s = e.GetProperty("scope");
                incidents.Add(new Incident
                {
                    Id = e.GetProperty("id").GetString() ?? throw new InvalidDataException("incident without id"),
                    Kind = e.GetProperty("kind").GetString() ?? throw new InvalidDataException("incident without kind"),
                    Scope = new Scope(Str(s, "country"), Str(s, "region"), Str(s, "target_group"), Str(s, "language"), Str(s, "term")),
                    Onset = ParseTime(e.GetProperty("onset")),
                    End = ParseTime(e.GetProperty("end")),
                    Description = Str(e, "description"),
                    Accounts = Strings(e, "accounts"),
                    PostIds = Strings(e, "post_ids"),
                    DecoyAccounts = Strings(e, "decoy_accounts"),
                    DecoyPostIds = Strings(e, "decoy_post_ids"),
                });
            }
            return new GroundTruth
            {
                Scenario = root.GetProperty("scenario").GetString() ?? "",
                Seed = root.GetProperty("seed").GetInt32(),
                Posts = root.GetProperty("posts").GetInt32(),
                Start = ParseTime(root.GetProperty("start")),
                End = ParseTime(root.GetProperty("end")),
                Incidents = incidents,
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException("not a ground-truth document: " + ex.Message, ex);
        }
    }

    /// <summary>Writes posts as JSON Lines (one object per line, each ending in <c>\n</c>).</summary>
    public static void WriteJsonl(IEnumerable<SimulatedPost> posts, Stream stream) => Simulator.WriteJsonl(posts, stream);

    internal static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(JsonElement e) =>
        DateTimeOffset.Parse(e.GetString() ?? throw new InvalidDataException("null time"), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string[] Strings(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array) return [];
        var list = new string[v.GetArrayLength()];
        var i = 0;
        foreach (var x in v.EnumerateArray()) list[i++] = x.GetString() ?? "";
        return list;
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void WriteArray(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
