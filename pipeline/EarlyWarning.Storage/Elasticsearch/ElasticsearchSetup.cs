using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EarlyWarning.Storage.Elasticsearch;

/// <summary>What <see cref="ElasticsearchSetup.InstallAsync(Uri, Uri?, CancellationToken)"/> put in place.</summary>
public sealed record ElasticsearchSetupResult(string Policy, IReadOnlyList<string> Templates, IReadOnlyList<string> CreatedIndices, int KibanaObjects);

/// <summary>
/// Installs what the Elasticsearch store and Kibana need: the ILM policy, one index template per index kind, the
/// single (non-dated) indices, and — given a Kibana address — the saved objects of the election-monitoring dashboard
/// through Kibana's <c>_import</c> API. Safe to run again: everything is put/overwritten, nothing is deleted.
/// </summary>
public static class ElasticsearchSetup
{
    /// <summary>The kinds stored in one index each; posts go to monthly indices created on first write.</summary>
    internal static readonly string[] SingleIndexKinds = ["alerts", "deadletters", "aggregates", "state", "feedback"];

    public static Task<ElasticsearchSetupResult> InstallAsync(Uri es, Uri? kibana, CancellationToken ct = default) =>
        InstallAsync(new ElasticsearchOptions { Url = es }, kibana, null, ct);

    /// <summary>Installs with explicit options (index prefix, assets folder, credentials); <paramref name="handler"/> is an optional HTTP handler for Elasticsearch, owned by the call.</summary>
    public static async Task<ElasticsearchSetupResult> InstallAsync(ElasticsearchOptions options, Uri? kibana, HttpMessageHandler? handler = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var assets = ElasticsearchAssets.Load(options.AssetsDirectory, options.IndexPrefix);
        using var client = new ElasticsearchClient(options.Url, handler, options.Authorization, options.RequestTimeout);
        var (templates, created) = await InstallTemplatesAsync(client, assets, ct).ConfigureAwait(false);
        var objects = 0;
        if (kibana is not null)
        {
            var path = assets.KibanaObjectsPath ?? throw new FileNotFoundException("Kibana saved objects (dashboards/kibana/election-monitoring.ndjson) not found.");
            objects = await ImportKibanaObjectsAsync(kibana, path, options.IndexPrefix, options.Authorization, ct).ConfigureAwait(false);
        }
        return new ElasticsearchSetupResult(assets.PolicyName, templates, created, objects);
    }

    /// <summary>Puts the ILM policy and the templates, then creates the single indices that are missing.</summary>
    internal static async Task<(List<string> Templates, List<string> Created)> InstallTemplatesAsync(ElasticsearchClient client, ElasticsearchAssets assets,
        CancellationToken ct)
    {
        await client.PutLifecyclePolicyAsync(assets.PolicyName, JsonSerializer.SerializeToUtf8Bytes(assets.Policy), ct).ConfigureAwait(false);
        var templates = new List<string>();
        foreach (var (kind, body) in assets.Templates)
        {
            var name = assets.TemplateName(kind);
            await client.PutIndexTemplateAsync(name, JsonSerializer.SerializeToUtf8Bytes(body), ct).ConfigureAwait(false);
            templates.Add(name);
        }
        var created = new List<string>();
        foreach (var kind in SingleIndexKinds)
        {
            var index = assets.Prefix + "-" + kind;
            if (await client.CreateIndexAsync(index, ct).ConfigureAwait(false)) created.Add(index);
        }
        return (templates, created);
    }

    /// <summary>
    /// Imports saved objects (NDJSON) into Kibana with <c>POST /api/saved_objects/_import?overwrite=true</c> (multipart
    /// form, field <c>file</c>, header <c>kbn-xsrf</c>). Index-pattern titles follow the index prefix. Returns the objects imported.
    /// </summary>
    public static async Task<int> ImportKibanaObjectsAsync(Uri kibana, string ndjsonPath, string prefix = ElasticsearchAssets.DefaultPrefix,
        string? authorization = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(kibana);
        var ndjson = RewriteKibanaObjects(await File.ReadAllLinesAsync(ndjsonPath, ct).ConfigureAwait(false), prefix);
        using var http = new HttpClient { BaseAddress = kibana.AbsoluteUri.EndsWith('/') ? kibana : new Uri(kibana.AbsoluteUri + "/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/saved_objects/_import?overwrite=true");
        request.Headers.Add("kbn-xsrf", "true");
        if (!string.IsNullOrEmpty(authorization)) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        var file = new ByteArrayContent(ndjson);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/ndjson");
        var form = new MultipartFormDataContent { { file, "file", Path.GetFileName(ndjsonPath) } };
        request.Content = form;
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new ElasticsearchException((int)response.StatusCode, null, $"Kibana import failed with HTTP {(int)response.StatusCode}: {Truncate(body)}");
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var ok = root.TryGetProperty("success", out var s) && s.ValueKind == JsonValueKind.True;
        if (!ok)
        {
            var errors = root.TryGetProperty("errors", out var e) ? e.GetRawText() : "(no errors listed)";
            throw new ElasticsearchException((int)response.StatusCode, null, "Kibana import reported errors: " + Truncate(errors));
        }
        return root.TryGetProperty("successCount", out var n) && n.TryGetInt32(out var count) ? count : 0;
    }

    private static byte[] RewriteKibanaObjects(string[] lines, string prefix)
    {
        var sb = new StringBuilder();
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var node = JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException("a Kibana saved-objects line is not a JSON object");
            if (prefix != ElasticsearchAssets.DefaultPrefix && node["type"]?.GetValue<string>() == "index-pattern" &&
                node["attributes"]?["title"] is JsonValue title && title.GetValue<string>().StartsWith(ElasticsearchAssets.DefaultPrefix + "-", StringComparison.Ordinal))
            {
                node["attributes"]!["title"] = prefix + title.GetValue<string>()[ElasticsearchAssets.DefaultPrefix.Length..];
            }
            sb.Append(node.ToJsonString()).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Truncate(string s) => s.Length <= 500 ? s : s[..500] + "...";
}
