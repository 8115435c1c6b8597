using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OdooOps.Secrets;

namespace OdooOps.Backups.Storage;

/// <summary>
/// Short-lived download links: <c>/api/ops/backups/{id}/download?expires=&lt;unix s&gt;&amp;sig=&lt;hex&gt;</c>, where sig is
/// HMAC-SHA256 over the backup id and the expiry. A link is minted only by a use case that checked that its user may
/// download that backup (the link is the permission, so that a CLI or curl can fetch it without a session); it is
/// good until it expires (OPS_BACKUP_LINK_MINUTES, default 15) and for that backup only. The key is derived from the
/// server's secrets key (HKDF, its own label), so it is never stored, is the same on every replica, and a new secrets
/// key voids every link.
/// </summary>
public sealed class BackupLinks
{
    const string Label = "odooops backup download links v1";
    readonly byte[] _key;
    readonly TimeProvider _clock;

    public TimeSpan Lifetime { get; }

    public BackupLinks(OpsSecrets secrets, TimeProvider clock, TimeSpan lifetime)
    {
        // Without a secrets key (only hand-built test hosts), a key of this process: links still work, here only.
        _key = secrets.Key is { } key
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Bytes.ToArray(), 32, info: Encoding.UTF8.GetBytes(Label))
            : RandomNumberGenerator.GetBytes(32);
        _clock = clock;
        Lifetime = lifetime;
    }

    public sealed record Link(string Path, DateTimeOffset ExpiresAt);

    /// <summary>The path and query of a link to <paramref name="backupId"/>'s download (the caller adds the server's address).</summary>
    public Link Create(Guid backupId, TimeSpan? lifetime = null)
    {
        var expires = _clock.GetUtcNow() + (lifetime is { } l && l > TimeSpan.Zero && l < Lifetime ? l : Lifetime);
        var seconds = expires.ToUnixTimeSeconds();
        return new Link($"/api/ops/backups/{backupId:D}/download?expires={seconds.ToString(CultureInfo.InvariantCulture)}&sig={Convert.ToHexStringLower(Sign(backupId, seconds))}",
            DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>True when <paramref name="sig"/> is this server's signature of the backup and expiry, and the expiry is still ahead.</summary>
    public bool IsValid(Guid backupId, string? expires, string? sig)
    {
        if (expires is null || sig is not { Length: 64 } || !sig.All(char.IsAsciiHexDigitLower)) return false;
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        // Compared before the time is looked at, in constant time: nothing is learnt from how long a wrong one takes.
        var genuine = CryptographicOperations.FixedTimeEquals(Sign(backupId, seconds), Convert.FromHexString(sig));
        return genuine && _clock.GetUtcNow().ToUnixTimeSeconds() < seconds;
    }

    byte[] Sign(Guid backupId, long expires) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"download\n{backupId:D}\n{expires.ToString(CultureInfo.InvariantCulture)}"));
}
