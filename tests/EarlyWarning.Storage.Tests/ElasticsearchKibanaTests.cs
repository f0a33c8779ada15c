using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EarlyWarning.Storage.Elasticsearch;
using static EarlyWarning.Storage.Tests.ElasticsearchTestSupport;

namespace EarlyWarning.Storage.Tests;

/// <summary>
/// The Kibana saved objects (dashboards/kibana/election-monitoring.ndjson) parse, hang together, and use only index
/// patterns and fields that the index templates in dashboards/elasticsearch define, with the types the visualisations need.
/// </summary>
public sealed partial class ElasticsearchKibanaTests
{
    private static string NdjsonPath => Path.Combine(AssetsDirectory, "..", "kibana", "election-monitoring.ndjson");

    private static List<JsonObject> LoadObjects() =>
        File.ReadAllLines(NdjsonPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void Saved_objects_reference_only_template_index_patterns_and_fields()
    {
        var objects = LoadObjects();
        Assert.Empty(Check(objects, ElasticsearchAssets.Load(AssetsDirectory)));
        var types = objects.Select(o => o["type"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "index-pattern", "visualization", "search", "map", "dashboard" }, types);
    }

    [Fact]
    public void The_dashboard_ties_every_visualisation_search_and_map_together()
    {
        var objects = LoadObjects();
        var dashboard = Assert.Single(objects, o => o["type"]!.GetValue<string>() == "dashboard");
        var panels = JsonNode.Parse(dashboard["attributes"]!["panelsJSON"]!.GetValue<string>())!.AsArray();
        var refs = dashboard["references"]!.AsArray().ToDictionary(r => r!["name"]!.GetValue<string>(), r => r!["id"]!.GetValue<string>());
        var onBoard = panels.Select(p => refs[p!["panelRefName"]!.GetValue<string>()]).ToHashSet();
        var shown = objects.Where(o => o["type"]!.GetValue<string>() is "visualization" or "search" or "map").Select(o => o["id"]!.GetValue<string>());
        Assert.Equal(shown.Order(), onBoard.Order());
        // What the election monitor needs: volume per region and per target group over time, the alert feed, top terms, a map.
        var fields = objects.Where(o => o["type"]!.GetValue<string>() == "visualization")
            .SelectMany(o => VisFields(o).Select(f => f.Field)).ToHashSet();
        Assert.Superset(new HashSet<string> { "region", "target_group", "bucket_start", "decision.terms" }, fields);
    }

    [Fact]
    public void The_check_catches_an_unknown_field_and_an_unknown_index_pattern()
    {
        var objects = LoadObjects();
        var search = objects.First(o => o["type"]!.GetValue<string>() == "search");
        search["attributes"]!["columns"]!.AsArray().Add("no_such_field");
        var pattern = objects.First(o => o["type"]!.GetValue<string>() == "index-pattern");
        pattern["attributes"]!["title"] = "someone-else-*";
        var problems = Check(objects, ElasticsearchAssets.Load(AssetsDirectory));
        Assert.Contains(problems, p => p.Contains("no_such_field", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("someone-else-*", StringComparison.Ordinal));
    }

    /// <summary>Every problem found: unresolved references, index patterns no template covers, unknown or mistyped fields.</summary>
    private static List<string> Check(List<JsonObject> objects, ElasticsearchAssets assets)
    {
        var problems = new List<string>();
        var byKey = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var o in objects)
        {
            var key = o["type"]!.GetValue<string>() + "/" + o["id"]!.GetValue<string>();
            if (!byKey.TryAdd(key, o)) problems.Add("duplicate object " + key);
        }
        foreach (var o in objects)
        {
            foreach (var r in o["references"]?.AsArray() ?? [])
            {
                var key = r!["type"]!.GetValue<string>() + "/" + r["id"]!.GetValue<string>();
                if (!byKey.ContainsKey(key)) problems.Add($"{o["id"]}: reference {key} not in the file");
            }
        }

        // index-pattern id -> the template kind whose index_patterns cover its title
        var kindOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in objects.Where(o => o["type"]!.GetValue<string>() == "index-pattern"))
        {
            var title = o["attributes"]!["title"]!.GetValue<string>();
            var kind = assets.Templates.FirstOrDefault(t => t.Value["index_patterns"]!.AsArray().Any(p => Covers(p!.GetValue<string>(), title))).Key;
            if (kind is null)
            {
                problems.Add($"index pattern '{title}' is not covered by any template");
                continue;
            }
            kindOf[o["id"]!.GetValue<string>()] = kind;
            if (o["attributes"]!["timeFieldName"] is JsonValue tf) Expect(kind, tf.GetValue<string>(), "date", "time field of " + title);
        }

        foreach (var o in objects)
        {
            var type = o["type"]!.GetValue<string>();
            var id = o["id"]!.GetValue<string>();
            var refs = (o["references"]?.AsArray() ?? []).ToDictionary(r => r!["name"]!.GetValue<string>(), r => r!["id"]!.GetValue<string>());
            string? KindFor(string refName) => refs.TryGetValue(refName, out var ipId) ? kindOf.GetValueOrDefault(ipId) : null;
            var attrs = o["attributes"]!;
            var sourceKind = KindFor("kibanaSavedObjectMeta.searchSourceJSON.index");
            var kuery = attrs["kibanaSavedObjectMeta"]?["searchSourceJSON"] is JsonValue ssj
                ? JsonNode.Parse(ssj.GetValue<string>())?["query"]?["query"]?.GetValue<string>() ?? "" : "";
            switch (type)
            {
                case "visualization":
                    if (sourceKind is null) { problems.Add(id + ": no index pattern"); break; }
                    foreach (var (field, needs) in VisFields(o)) Expect(sourceKind, field, needs, id);
                    foreach (var f in KueryFields(kuery)) Expect(sourceKind, f, null, id);
                    break;
                case "search":
                    if (sourceKind is null) { problems.Add(id + ": no index pattern"); break; }
                    foreach (var c in attrs["columns"]!.AsArray()) Expect(sourceKind, c!.GetValue<string>(), null, id);
                    foreach (var s in attrs["sort"]?.AsArray() ?? []) Expect(sourceKind, s![0]!.GetValue<string>(), null, id);
                    foreach (var f in KueryFields(kuery)) Expect(sourceKind, f, null, id);
                    break;
                case "map":
                    foreach (var layer in JsonNode.Parse(attrs["layerListJSON"]!.GetValue<string>())!.AsArray())
                    {
                        var src = layer!["sourceDescriptor"]!;
                        if (src["indexPatternRefName"] is not JsonValue refName) continue;
                        var kind = KindFor(refName.GetValue<string>());
                        if (kind is null) { problems.Add($"{id}: layer {layer["id"]} has no index pattern"); continue; }
                        Expect(kind, src["geoField"]!.GetValue<string>(), "geo_point", id);
                        foreach (var t in src["tooltipProperties"]?.AsArray() ?? []) Expect(kind, t!.GetValue<string>(), null, id);
                        if (src["sortField"] is JsonValue sf) Expect(kind, sf.GetValue<string>(), null, id);
                        foreach (var f in KueryFields(layer["query"]?["query"]?.GetValue<string>() ?? "")) Expect(kind, f, null, id);
                    }
                    break;
            }
        }
        return problems;

        void Expect(string kind, string field, string? needs, string where)
        {
            var fields = assets.Fields(kind);
            if (!fields.TryGetValue(field, out var actual)) problems.Add($"{where}: field '{field}' is not in template {kind}");
            else if (needs == "number" ? actual is not ("long" or "integer" or "short" or "byte" or "float" or "double") : needs is not null && actual != needs)
                problems.Add($"{where}: field '{field}' is {actual}, needs {needs}");
        }
    }

    /// <summary>Fields a legacy visualisation's aggregations use, with the type each aggregation needs.</summary>
    private static IEnumerable<(string Field, string? Needs)> VisFields(JsonObject vis)
    {
        var state = JsonNode.Parse(vis["attributes"]!["visState"]!.GetValue<string>())!;
        foreach (var agg in state["aggs"]?.AsArray() ?? [])
        {
            if (agg!["params"]?["field"] is not JsonValue f) continue;
            var needs = agg["type"]!.GetValue<string>() switch
            {
                "date_histogram" => "date",
                "sum" or "avg" or "max" or "min" => "number",
                "geohash_grid" or "geotile_grid" => "geo_point",
                _ => null,
            };
            yield return (f.GetValue<string>(), needs);
        }
    }

    private static IEnumerable<string> KueryFields(string kuery) => KueryField().Matches(kuery).Select(m => m.Groups[1].Value);

    private static bool Covers(string templatePattern, string title)
    {
        var parts = templatePattern.Split('*');
        if (parts.Length == 1) return templatePattern == title;
        return title.StartsWith(parts[0], StringComparison.Ordinal) && title.EndsWith(parts[^1], StringComparison.Ordinal);
    }

    [GeneratedRegex(@"([A-Za-z_][\w.]*)\s*:")]
    private static partial Regex KueryField();
}
