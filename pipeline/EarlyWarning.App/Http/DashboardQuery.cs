using System.Globalization;
using EarlyWarning.Core.Alerts;
using Microsoft.Extensions.Primitives;

namespace EarlyWarning.App.Http;

/// <summary>
/// Reads and bounds request inputs. Each method returns the parsed value or records the first error, so a handler
/// checks <see cref="Error"/> once and answers 400 with a message instead of throwing.
/// </summary>
internal sealed class DashboardQuery(IQueryCollection query)
{
    public const int MaxTextLength = 200;
    public const int MaxIdLength = 200;

    public string? Error { get; private set; }

    private void Fail(string message) => Error ??= message;

    private string? Raw(string name)
    {
        if (!query.TryGetValue(name, out StringValues v) || v.Count == 0) return null;
        if (v.Count > 1)
        {
            Fail($"'{name}' given more than once");
            return null;
        }
        var s = v[0];
        return string.IsNullOrEmpty(s) ? null : s;
    }

    /// <summary>A short free-text filter (region, target group...): bounded length, no control characters.</summary>
    public string? Text(string name, int maxLength = 64)
    {
        var s = Raw(name);
        if (s is null) return null;
        s = s.Trim();
        if (s.Length == 0) return null;
        if (s.Length > maxLength) { Fail($"'{name}' is longer than {maxLength} characters"); return null; }
        if (s.Any(char.IsControl)) { Fail($"'{name}' contains control characters"); return null; }
        return s;
    }

    /// <summary>An ISO 3166 alpha-2 (or alpha-3) country code, upper-cased.</summary>
    public string? Country(string name = "country")
    {
        var s = Text(name, 3);
        if (s is null) return null;
        if (s.Length < 2 || !s.All(char.IsAsciiLetter)) { Fail($"'{name}' must be a 2- or 3-letter country code"); return null; }
        return s.ToUpperInvariant();
    }

    /// <summary>One of a fixed set of values (case-insensitive; returned as the set spells it).</summary>
    public string? OneOf(string name, IReadOnlyCollection<string> allowed)
    {
        var s = Text(name);
        if (s is null) return null;
        foreach (var a in allowed)
            if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase)) return a;
        Fail($"'{name}' must be one of: {string.Join(", ", allowed)}");
        return null;
    }

    public Severity? Severity(string name)
    {
        var s = OneOf(name, ["low", "medium", "high", "critical"]);
        return s is null ? null : Alert.ParseSeverity(s);
    }

    /// <summary>An RFC 3339 timestamp (or a date), taken as UTC when it carries no offset.</summary>
    public DateTimeOffset? Time(string name)
    {
        var s = Text(name);
        if (s is null) return null;
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix) && unix is > 0 and < 253402300800)
            return DateTimeOffset.FromUnixTimeSeconds(unix);
        Fail($"'{name}' must be an RFC 3339 timestamp such as 2026-11-08T06:00:00Z");
        return null;
    }

    /// <summary>A positive integer; values above <paramref name="max"/> are capped, not refused.</summary>
    public int Int(string name, int defaultValue, int min, int max)
    {
        var s = Text(name, 32);
        if (s is null) return defaultValue;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            // A huge number of digits is still a number: cap it rather than refuse it.
            if (s.Length > 0 && s.All(char.IsAsciiDigit)) return max;
            Fail($"'{name}' must be an integer");
            return defaultValue;
        }
        if (v < min) { Fail($"'{name}' must be at least {min}"); return defaultValue; }
        return Math.Min(v, max);
    }

    /// <summary>Checks an id taken from the path: bounded, printable.</summary>
    public static string? CheckId(string? id, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(id)) { error = "id is empty"; return null; }
        if (id.Length > MaxIdLength) { error = $"id is longer than {MaxIdLength} characters"; return null; }
        if (id.Any(char.IsControl)) { error = "id contains control characters"; return null; }
        return id;
    }
}
