using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace OdooOps.Secrets;

/// <summary>
/// The key that encrypts secrets at rest and is never in the database: the data-protection keys (which protect session
/// cookies and the credentials stored with them) are encrypted with it before they are stored. 32 bytes, from
/// OPS_SECRETS_KEY (64 hex digits or base64) or from &lt;data-dir&gt;/secrets.key, which the first start creates 0600.
/// Losing it signs everyone out and makes stored credentials unreadable: it is backed up apart from the database.
/// </summary>
public sealed class SecretsKey
{
    public const string Setting = "OPS_SECRETS_KEY";
    public const string FileName = "secrets.key";
    const int Length = 32;

    readonly byte[] _bytes;

    /// <summary>Where the key came from (the setting's name or the file's path), for messages; never the key.</summary>
    public string Source { get; }

    /// <summary>A fingerprint naming the key in what it encrypted (16 hex digits of its SHA-256); tells keys apart, reveals nothing.</summary>
    public string Id { get; }

    SecretsKey(byte[] bytes, string source)
    {
        _bytes = bytes;
        Source = source;
        Id = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// AES-256-GCM with this key and a fresh 96-bit nonce; <paramref name="context"/> is authenticated, not stored, so a
    /// ciphertext opens only where the same context is given again (what it was made for).
    /// </summary>
    internal (byte[] Nonce, byte[] Tag, byte[] Ciphertext) Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> context)
    {
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(_bytes, tag.Length))
            aes.Encrypt(nonce, plaintext, ciphertext, tag, context);
        return (nonce, tag, ciphertext);
    }

    /// <summary>The plaintext of <see cref="Seal"/>; throws <see cref="CryptographicException"/> when anything differs (key, context, bytes).</summary>
    internal byte[] Open(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> context)
    {
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(_bytes, tag.Length))
            aes.Decrypt(nonce, ciphertext, tag, plaintext, context);
        return plaintext;
    }

    public static SecretsKey Generate(string source = "generated") => new(RandomNumberGenerator.GetBytes(Length), source);

    /// <summary>64 hex digits or the base64 of 32 bytes; anything else is refused in one line naming <paramref name="source"/>.</summary>
    public static SecretsKey Parse(string text, string source)
    {
        text = text.Trim();
        byte[]? bytes = null;
        if (text.Length == Length * 2 && text.All(char.IsAsciiHexDigit)) bytes = Convert.FromHexString(text);
        else
        {
            var buffer = new byte[Length + 3];
            if (Convert.TryFromBase64String(text, buffer, out var written) && written == Length) bytes = buffer[..Length];
        }
        return bytes is null
            ? throw new InvalidOperationException($"{source} is not a secrets key: it must be 32 bytes, written as 64 hex digits or in base64 (e.g. `openssl rand -hex 32`).")
            : new SecretsKey(bytes, source);
    }

    public static string DefaultPath(string dataDir) => Path.Combine(dataDir, FileName);

    /// <summary>
    /// OPS_SECRETS_KEY when set; otherwise the data dir's key file, created (mode 0600 before the key is written) when
    /// there is none yet, which the first start reports.
    /// </summary>
    public static SecretsKey Resolve(IConfiguration config, string dataDir, TextWriter output)
    {
        if (config[Setting] is { Length: > 0 } configured) return Parse(configured, Setting);
        var path = DefaultPath(dataDir);
        if (File.Exists(path))
        {
            if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
                output.WriteLine($"Warning: {path} is readable by other users than its owner: chmod 600 it.");
            return Parse(File.ReadAllText(path), path);
        }
        var key = Generate(path);
        Directory.CreateDirectory(dataDir);
        PrivateFile.Write(path, Convert.ToHexStringLower(key._bytes) + "\n");
        output.WriteLine($"Generated the secrets key into {path}: back it up apart from the database (losing it signs everyone out and loses stored credentials).");
        return key;
    }
}
