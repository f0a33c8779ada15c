using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace EarlyWarning.App.Safeguards;

/// <summary>
/// Encrypts dead letters at rest. A dead letter keeps the bytes of input that could not be decoded, so it was never
/// pseudonymised and may hold raw account ids and handles; the stores (the SQLite file, Elasticsearch documents) get
/// only ciphertext. AES-256-GCM under a key derived (HKDF-SHA256) from the pseudonymisation key of the current version in
/// the data folder (<see cref="PseudonymKeyRing"/>: created on first run with mode 600, never in the repository); the
/// key version travels in the header, so letters sealed before a rotation still open with the kept old version.
/// </summary>
/// <remarks>
/// Format: <c>00 'E' 'W' 'D' 'L' 01</c>, key version (int32 big-endian), nonce (12), tag (16), ciphertext. The header
/// (magic and version) is the associated data, so a letter cannot be relabelled to another key version.
/// </remarks>
public sealed class DeadLetterCipher
{
    private static readonly byte[] Magic = [0x00, (byte)'E', (byte)'W', (byte)'D', (byte)'L', 0x01];
    private static readonly byte[] KeyInfo = Encoding.ASCII.GetBytes("earlywarning/dead-letters/v1");
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly int HeaderSize = Magic.Length + 4;

    /// <summary>Bytes a sealed letter carries beyond its plaintext.</summary>
    public static readonly int Overhead = HeaderSize + NonceSize + TagSize;

    private readonly PseudonymKeyRing _keys;
    private readonly ConcurrentDictionary<int, byte[]> _derived = new();

    public DeadLetterCipher(PseudonymKeyRing keys)
    {
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        Version = keys.CurrentVersion;
        _ = Key(Version);
    }

    /// <summary>The key version new letters are sealed under (the current one when this cipher was made).</summary>
    public int Version { get; }

    /// <summary>True when <paramref name="stored"/> is in this class's sealed format (it may still fail to open).</summary>
    public static bool IsSealed(ReadOnlySpan<byte> stored) => stored.Length >= Overhead && stored.StartsWith(Magic);

    /// <summary>Encrypts one dead letter's original bytes.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plain)
    {
        var output = new byte[Overhead + plain.Length];
        Magic.CopyTo(output, 0);
        BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(Magic.Length, 4), Version);
        var nonce = output.AsSpan(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var tag = output.AsSpan(HeaderSize + NonceSize, TagSize);
        using var aes = new AesGcm(Key(Version), TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(Overhead), tag, output.AsSpan(0, HeaderSize));
        return output;
    }

    /// <summary>
    /// The original bytes of a stored letter. Bytes not in the sealed format (letters stored before encryption, or
    /// written by a store itself) are returned as they are. False with <paramref name="error"/> when a sealed letter
    /// does not open (its key version is gone, or it was altered).
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> stored, out byte[] plain, out string? error)
    {
        error = null;
        if (!IsSealed(stored))
        {
            plain = stored.ToArray();
            return true;
        }
        plain = [];
        var version = BinaryPrimitives.ReadInt32BigEndian(stored.Slice(Magic.Length, 4));
        byte[] key;
        try { key = Key(version); }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidDataException or IOException)
        {
            error = $"key version {version} is not available";
            return false;
        }
        var result = new byte[stored.Length - Overhead];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(stored.Slice(HeaderSize, NonceSize), stored[Overhead..], stored.Slice(HeaderSize + NonceSize, TagSize), result,
                stored[..HeaderSize]);
        }
        catch (AuthenticationTagMismatchException)
        {
            error = "the sealed bytes do not authenticate (altered, or another key)";
            return false;
        }
        plain = result;
        return true;
    }

    private byte[] Key(int version) =>
        _derived.GetOrAdd(version, v => HKDF.DeriveKey(HashAlgorithmName.SHA256, _keys.GetKey(v), 32, salt: [], info: KeyInfo));
}
