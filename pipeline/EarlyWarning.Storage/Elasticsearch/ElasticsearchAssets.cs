using System.Text.Json;
using System.Text.Json.Nodes;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>
/// The index templates and the ILM policy from <c>dashboards/elasticsearch/</c> (and the Kibana saved objects beside
/// them), with the default <c>earlywarning</c> prefix rewritten to the configured one. The files are the single source of
/// truth: the store installs exactly what a reviewer reads there.
/// </summary>
public sealed class ElasticsearchAssets
{
    public const string DefaultPrefix = "earlywarning";

    /// <summary>Index kinds, each with a <c>template-KIND.json</c>.</summary>
    public static readonly string[] Kinds = ["posts", "alerts", "deadletters", "aggregates", "state", "feedback"];

    private ElasticsearchAssets(string directory, string prefix, Dictionary<string, JsonObject> templates, JsonObject policy)
    {
        Directory = directory;
        Prefix = prefix;
        Templates = templates;
        Policy = policy;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Directory { get; }

    public string Prefix { get; }

    /// <summary>Index template bodies by kind, prefix applied.</summary>
    public IReadOnlyDictionary<string, JsonObject> Templates { get; }

    /// <summary>The ILM policy body, named <see cref="PolicyName"/>.</summary>
    public JsonObject Policy { get; }

    public string PolicyName => Prefix + "-retention";

    public string TemplateName(string kind) => Prefix + "-" + kind;

    /// <summary>The Kibana saved objects file, when present beside the templates (<c>../kibana/election-monitoring.ndjson</c>).</summary>
    public string? KibanaObjectsPath
    {
        get
        {
            var p = Path.GetFullPath(Path.Combine(Directory, "..", "kibana", "election-monitoring.ndjson"));
            return File.Exists(p) ? p : null;
        }
    }

    /// <summary>
    /// Finds the assets folder: <paramref name="directory"/> when given, else <c>EARLYWARNING_DASHBOARDS</c>/elasticsearch,
    /// else the first <c>dashboards/elasticsearch</c> above the application's folder or the working directory.
    /// </summary>
    public static string Locate(string? directory = null)
    {
        if (!string.IsNullOrEmpty(directory))
        {
            if (!File.Exists(Path.Combine(directory, "template-posts.json")))
                throw new FileNotFoundException($"No Elasticsearch templates (template-posts.json) in '{directory}'.");
            return Path.GetFullPath(directory);
        }
        var env = Environment.GetEnvironmentVariable("EARLYWARNING_DASHBOARDS");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "elasticsearch", "template-posts.json")))
            return Path.GetFullPath(Path.Combine(env, "elasticsearch"));
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "dashboards", "elasticsearch");
                if (File.Exists(Path.Combine(candidate, "template-posts.json"))) return candidate;
            }
        }
        throw new FileNotFoundException(
            "Elasticsearch templates not found: set ElasticsearchOptions.AssetsDirectory or EARLYWARNING_DASHBOARDS, or run from the repository.");
    }

    public static ElasticsearchAssets Load(string? directory = null, string prefix = DefaultPrefix)
    {
        var dir = Locate(directory);
        var templates = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var kind in Kinds)
        {
            var path = Path.Combine(dir, $"template-{kind}.json");
            var node = ParseObject(path);
            if (node["index_patterns"] is not JsonArray patterns || patterns.Count == 0)
                throw new InvalidDataException($"{path}: index_patterns missing");
            for (var i = 0; i < patterns.Count; i++)
                patterns[i] = Rename(patterns[i]!.GetValue<string>(), prefix);
            if (node["template"]?["settings"] is JsonObject settings && settings["index.lifecycle.name"] is JsonValue ilm)
                settings["index.lifecycle.name"] = Rename(ilm.GetValue<string>(), prefix);
            templates[kind] = node;
        }
        var policy = ParseObject(Path.Combine(dir, "ilm-policy.json"));
        return new ElasticsearchAssets(dir, prefix, templates, policy);
    }

    /// <summary>Field name → mapping type of one template (object paths dotted; disabled objects listed as <c>object</c>).</summary>
    public IReadOnlyDictionary<string, string> Fields(string kind)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Templates[kind]["template"]?["mappings"]?["properties"] is JsonObject props) Flatten(props, "", fields);
        return fields;
    }

    private static void Flatten(JsonObject props, string prefix, Dictionary<string, string> fields)
    {
        foreach (var (name, value) in props)
        {
            if (value is not JsonObject def) continue;
            var path = prefix + name;
            if (def["properties"] is JsonObject sub)
            {
                fields[path] = "object";
                Flatten(sub, path + ".", fields);
            }
            else fields[path] = def["type"]?.GetValue<string>() ?? "object";
        }
    }

    private static string Rename(string name, string prefix) =>
        name.StartsWith(DefaultPrefix + "-", StringComparison.Ordinal) ? prefix + name[DefaultPrefix.Length..] : name;

    private static JsonObject ParseObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
