namespace EarlyWarning.App.Http;

/// <summary>
/// Reads dashboard API keys from configuration text: <c>KEY:NAME:ROLE</c> entries separated by commas or semicolons,
/// ROLE one of viewer, analyst, admin (e.g. from <c>EARLYWARNING_API_KEYS</c>). Keys shorter than 16 characters are refused.
/// </summary>
public static class ApiKeys
{
    public const int MinimumKeyLength = 16;

    /// <summary>The keys, or null when <paramref name="spec"/> is empty (the local default needs none).</summary>
    public static IReadOnlyList<DashboardApiKey>? Parse(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var keys = new List<DashboardApiKey>();
        foreach (var entry in spec.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split(':');
            if (parts.Length != 3) throw new FormatException("API keys are KEY:NAME:ROLE entries separated by commas");
            if (parts[0].Length < MinimumKeyLength) throw new FormatException($"API key for '{parts[1]}' is shorter than {MinimumKeyLength} characters");
            var role = parts[2].ToLowerInvariant() switch
            {
                "viewer" => DashboardRole.Viewer,
                "analyst" => DashboardRole.Analyst,
                "admin" => DashboardRole.Admin,
                _ => throw new FormatException($"unknown role '{parts[2]}' (viewer, analyst, admin)"),
            };
            keys.Add(new DashboardApiKey(parts[0], parts[1], role));
        }
        return keys;
    }
}
