using System.Security.Cryptography;
using System.Text;

namespace EarlyWarning.Core.Privacy;

/// <summary>
/// Replaces account identifiers with keyed HMAC-SHA256 pseudonyms before storage (DESIGN.md, safeguards).
/// The same key gives the same pseudonym, so networks stay linkable without revealing who is who. Thread-safe: each
/// thread keeps its own keyed HMAC, so the key's inner and outer pads are computed once per thread rather than once per
/// identifier (a one-shot <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> per id
/// took about 1.6–1.9 µs here, the kept HMAC 0.5 µs; same bytes). Nothing but the key is kept: no identifier outlives
/// its call.
/// </summary>
public sealed class Pseudonymizer
{
    private readonly byte[] _key;
    private readonly bool _enabled;
    private readonly ThreadLocal<IncrementalHash>? _hmac;

    public Pseudonymizer(ReadOnlySpan<byte> key, bool enabled = true)
    {
        if (enabled && key.Length < 16) throw new ArgumentException("pseudonymisation key must be at least 16 bytes", nameof(key));
        _key = key.ToArray();
        _enabled = enabled;
        if (enabled) _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key));
    }

    public bool Enabled => _enabled;

    /// <summary>Pseudonym of an identifier: <c>p_</c> + 16 hex digits of HMAC-SHA256(key, id).</summary>
    public string Pseudonymize(string id)
    {
        if (!_enabled) return id;
        var max = Encoding.UTF8.GetMaxByteCount(id.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(id, buffer);
        Span<byte> mac = stackalloc byte[32];
        var hmac = _hmac!.Value!;
        hmac.AppendData(buffer[..n]);
        hmac.GetHashAndReset(mac);
        return "p_" + Convert.ToHexStringLower(mac[..8]);
    }

    /// <summary>Loads the key from a file, creating it (32 random bytes, mode 600) on first use.</summary>
    public static byte[] LoadOrCreateKey(string path)
    {
        if (File.Exists(path)) return File.ReadAllBytes(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var fs = new FileStream(path, options)) fs.Write(key);
        return key;
    }
}
