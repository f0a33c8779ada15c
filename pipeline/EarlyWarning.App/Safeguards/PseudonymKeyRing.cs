using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EarlyWarning.Core.Privacy;

namespace EarlyWarning.App.Safeguards;

/// <summary>
/// Versions of the pseudonymisation key in the data folder. <c>pseudonym.key</c> is always the current key (what
/// <c>run</c> loads); <c>pseudonym.key.vN</c> keeps every version, so pseudonyms made under an old key can still be
/// re-identified and mapped forward. All key files are created with mode 600. A legacy folder with only
/// <c>pseudonym.key</c> is version 1.
/// </summary>
public sealed class PseudonymKeyRing
{
    private const string CurrentName = "pseudonym.key";
    private static readonly byte[] MapKeyInfo = Encoding.ASCII.GetBytes("earlywarning/reidentification-map/v1");

    public PseudonymKeyRing(string dataDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        DataDir = Path.GetFullPath(dataDir);
        Directory.CreateDirectory(DataDir);
        var current = Core.Privacy.Pseudonymizer.LoadOrCreateKey(CurrentKeyPath);
        if (Versions().Count == 0) WriteKeyFile(VersionPath(1), current);
        var latest = GetKey(CurrentVersion);
        if (!CryptographicOperations.FixedTimeEquals(latest, current))
            throw new InvalidDataException(
                $"'{CurrentKeyPath}' differs from its latest version file '{VersionPath(CurrentVersion)}': a key was replaced by hand; " +
                "restore it or rotate with the key ring so old pseudonyms stay mappable.");
    }

    public string DataDir { get; }

    /// <summary>The file <c>run</c> reads the key from.</summary>
    public string CurrentKeyPath => Path.Combine(DataDir, CurrentName);

    /// <summary>Highest key version present.</summary>
    public int CurrentVersion => Versions().Max();

    public byte[] CurrentKey => GetKey(CurrentVersion);

    /// <summary>The key of one version; throws <see cref="KeyNotFoundException"/> when that version's file is gone.</summary>
    public byte[] GetKey(int version)
    {
        var path = VersionPath(version);
        if (!File.Exists(path)) throw new KeyNotFoundException($"pseudonymisation key version {version} is not in '{DataDir}'");
        var key = File.ReadAllBytes(path);
        if (key.Length < 16) throw new InvalidDataException($"'{path}' holds {key.Length} bytes; a key needs at least 16");
        return key;
    }

    /// <summary>Key versions present, ascending.</summary>
    public IReadOnlyList<int> Versions()
    {
        var list = new List<int>();
        foreach (var f in Directory.EnumerateFiles(DataDir, CurrentName + ".v*"))
        {
            var suffix = Path.GetFileName(f)[(CurrentName.Length + 2)..];
            if (int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0) list.Add(v);
        }
        list.Sort();
        return list;
    }

    /// <summary>
    /// Creates a new key version and makes it current. The version file is written first, then <c>pseudonym.key</c> is
    /// replaced atomically, so a crash leaves either the old or the new key current, never a half-written one.
    /// </summary>
    public int Rotate()
    {
        var next = CurrentVersion + 1;
        var key = RandomNumberGenerator.GetBytes(32);
        WriteKeyFile(VersionPath(next), key);
        var tmp = CurrentKeyPath + ".tmp";
        if (File.Exists(tmp)) File.Delete(tmp);
        WriteKeyFile(tmp, key);
        File.Move(tmp, CurrentKeyPath, overwrite: true);
        return next;
    }

    /// <summary>The pseudonymiser of one key version.</summary>
    public Pseudonymizer PseudonymizerFor(int version) => new(GetKey(version));

    /// <summary>The AES-256-GCM key for the re-identification map of one version: HKDF-SHA256 of that pseudonym key.</summary>
    public byte[] MapKey(int version) => HKDF.DeriveKey(HashAlgorithmName.SHA256, GetKey(version), 32, salt: [], info: MapKeyInfo);

    private string VersionPath(int version) => Path.Combine(DataDir, CurrentName + ".v" + version.ToString(CultureInfo.InvariantCulture));

    private static void WriteKeyFile(string path, byte[] key)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var fs = new FileStream(path, options);
        fs.Write(key);
        fs.Flush(flushToDisk: true);
    }
}
