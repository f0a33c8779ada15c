using System.Net.Mail;
using System.Text.Json;
using EarlyWarning.Core.Alerts;

namespace EarlyWarning.Signals.Delivery;

/// <summary>A subscription entry that was refused, and why (the file's other entries still load).</summary>
public sealed record SubscriptionError(int Index, string? Id, string Reason)
{
    public override string ToString() => $"subscriptions[{Index}]{(Id is null ? "" : " (" + Id + ")")}: {Reason}";
}

/// <summary>The valid subscriptions of a file and the entries refused.</summary>
public sealed record SubscriptionLoadResult(IReadOnlyList<Subscription> Subscriptions, IReadOnlyList<SubscriptionError> Errors);

/// <summary>
/// Loads subscriptions from JSON (e.g. <c>data/subscriptions.json</c>). The format, documented in
/// <c>Delivery/README.md</c>: an object <c>{"subscriptions":[...]}</c> (or a bare array) whose entries have
/// <c>id</c>, <c>name</c>, <c>channel</c> (<c>webhook</c>|<c>email</c>|<c>topic</c>), <c>target</c>, optional
/// <c>secret</c> or <c>secret_env</c> (webhooks), <c>countries</c>, <c>regions</c>, <c>kinds</c>,
/// <c>min_severity</c> and <c>enabled</c>. A bad entry is refused with a reason; it never stops the others loading,
/// and an unknown field refuses the entry (a misspelt filter must not silently widen what is delivered).
/// </summary>
public static class SubscriptionFile
{
    private const int MinSecretLength = 16;

    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "id", "name", "channel", "target", "secret", "secret_env", "countries", "regions", "kinds", "min_severity", "enabled", "note",
    };

    private static readonly JsonDocumentOptions DocOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 16,
    };

    /// <summary>Reads and validates a file. A missing or unreadable file is one error, not an exception.</summary>
    public static SubscriptionLoadResult Load(string path, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new SubscriptionLoadResult([], [new SubscriptionError(-1, null, $"cannot read {path}: {ex.Message}")]);
        }
        return Parse(json, environment);
    }

    /// <summary>Parses and validates JSON text; <paramref name="environment"/> resolves <c>secret_env</c> (default: process environment).</summary>
    public static SubscriptionLoadResult Parse(string json, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        environment ??= Environment.GetEnvironmentVariable;
        var subs = new List<Subscription>();
        var errors = new List<SubscriptionError>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, DocOptions);
        }
        catch (JsonException ex)
        {
            return new SubscriptionLoadResult([], [new SubscriptionError(-1, null, "invalid JSON: " + ex.Message)]);
        }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement list;
            if (root.ValueKind == JsonValueKind.Array) list = root;
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("subscriptions", out var l) && l.ValueKind == JsonValueKind.Array) list = l;
            else return new SubscriptionLoadResult([], [new SubscriptionError(-1, null, "expected an array or an object with a 'subscriptions' array")]);

            var ids = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var e in list.EnumerateArray())
            {
                var (sub, reason) = ParseOne(e, environment);
                var id = e.ValueKind == JsonValueKind.Object && e.TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.String ? idEl.GetString() : null;
                if (sub is null) errors.Add(new SubscriptionError(i, id, reason!));
                else if (!ids.Add(sub.Id)) errors.Add(new SubscriptionError(i, id, "duplicate id"));
                else subs.Add(sub);
                i++;
            }
        }
        return new SubscriptionLoadResult(subs, errors);
    }

    private static (Subscription? Sub, string? Reason) ParseOne(JsonElement e, Func<string, string?> environment)
    {
        if (e.ValueKind != JsonValueKind.Object) return (null, "entry is not an object");
        foreach (var p in e.EnumerateObject())
            if (!KnownFields.Contains(p.Name)) return (null, $"unknown field '{p.Name}'");

        if (!TryString(e, "id", out var id, out var err) || id is null) return (null, err ?? "missing 'id'");
        if (!IsToken(id, 64)) return (null, "'id' must be 1..64 characters of letters, digits, '.', '_' or '-'");
        if (!TryString(e, "name", out var name, out err)) return (null, err);
        if (!TryString(e, "channel", out var channelText, out err) || channelText is null) return (null, err ?? "missing 'channel'");
        ChannelKind channel;
        switch (channelText)
        {
            case "webhook": channel = ChannelKind.Webhook; break;
            case "email": channel = ChannelKind.Email; break;
            case "topic": channel = ChannelKind.Topic; break;
            default: return (null, $"'channel' must be webhook, email or topic, not '{channelText}'");
        }
        if (!TryString(e, "target", out var target, out err) || string.IsNullOrWhiteSpace(target)) return (null, err ?? "missing 'target'");
        target = target.Trim();
        if (CheckTarget(channel, target) is { } targetError) return (null, targetError);

        if (!TryString(e, "secret", out var secret, out err)) return (null, err);
        if (!TryString(e, "secret_env", out var secretEnv, out err)) return (null, err);
        if (secret is not null && secretEnv is not null) return (null, "give 'secret' or 'secret_env', not both");
        if (secretEnv is not null)
        {
            secret = environment(secretEnv);
            if (string.IsNullOrEmpty(secret)) return (null, $"environment variable '{secretEnv}' named by 'secret_env' is not set");
        }
        if (channel == ChannelKind.Webhook && (secret is null || secret.Length < MinSecretLength))
            return (null, $"a webhook needs a 'secret' (or 'secret_env') of at least {MinSecretLength} characters to sign its deliveries");

        if (!TryList(e, "countries", out var countries, out err)) return (null, err);
        foreach (var c in countries)
            if (c.Length != 2 || !char.IsAsciiLetter(c[0]) || !char.IsAsciiLetter(c[1])) return (null, $"country '{c}' is not an ISO 3166 alpha-2 code");
        if (!TryList(e, "regions", out var regions, out err)) return (null, err);
        if (!TryList(e, "kinds", out var kinds, out err)) return (null, err);
        foreach (var k in kinds)
            if (!AlertKinds.All.Contains(k, StringComparer.Ordinal)) return (null, $"unknown alert kind '{k}'");

        var min = Severity.Low;
        if (!TryString(e, "min_severity", out var minText, out err)) return (null, err);
        if (minText is not null)
        {
            try
            {
                min = Alert.ParseSeverity(minText);
            }
            catch (FormatException)
            {
                return (null, $"'min_severity' must be low, medium, high or critical, not '{minText}'");
            }
        }
        var enabled = true;
        if (e.TryGetProperty("enabled", out var en))
        {
            if (en.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return (null, "'enabled' must be true or false");
            enabled = en.GetBoolean();
        }

        return (new Subscription
        {
            Id = id,
            Name = string.IsNullOrWhiteSpace(name) ? id : name,
            Channel = channel,
            Target = target,
            Secret = secret,
            Countries = [.. countries.Select(c => c.ToUpperInvariant())],
            Regions = regions,
            Kinds = kinds,
            MinSeverity = min,
            Enabled = enabled,
        }, null);
    }

    private static string? CheckTarget(ChannelKind channel, string target)
    {
        switch (channel)
        {
            case ChannelKind.Webhook:
                if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                    return "a webhook 'target' must be an absolute http or https URL";
                if (!string.IsNullOrEmpty(uri.UserInfo)) return "a webhook 'target' must not carry credentials in the URL";
                return null;
            case ChannelKind.Email:
                try
                {
                    var a = new MailAddress(target);
                    return a.Address == target ? null : "an email 'target' must be a bare address (user@host)";
                }
                catch (FormatException)
                {
                    return "an email 'target' must be an email address";
                }
            default:
                // Kafka topic names: 1..249 of [A-Za-z0-9._-], and not "." or "..".
                return IsToken(target, 249) && target is not ("." or "..") ? null : "a topic 'target' must be a Kafka topic name";
        }
    }

    private static bool IsToken(string s, int maxLength) =>
        s.Length is > 0 && s.Length <= maxLength && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static bool TryString(JsonElement e, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind != JsonValueKind.String)
        {
            error = $"'{name}' must be a string";
            return false;
        }
        value = p.GetString();
        return true;
    }

    private static bool TryList(JsonElement e, string name, out List<string> values, out string? error)
    {
        values = [];
        error = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind != JsonValueKind.Array)
        {
            error = $"'{name}' must be an array of strings";
            return false;
        }
        foreach (var x in p.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(x.GetString()))
            {
                error = $"'{name}' must hold only non-empty strings";
                return false;
            }
            values.Add(x.GetString()!.Trim());
        }
        return true;
    }
}
