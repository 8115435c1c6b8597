using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace OdooOps.Notifications;

/// <summary>
/// Encrypts a channel's secret (the webhook's signing secret, the Slack webhook's URL, the SMTP password) before it
/// reaches the database, and decrypts it for the delivery worker, with the server's data-protection keys (themselves
/// encrypted with the secrets key: see Auth/DatabaseKeyRepository). The purpose names the organisation, so a ciphertext
/// copied onto another organisation's channel does not decrypt there.
/// </summary>
internal sealed class NotificationSecretProtector(IDataProtectionProvider provider)
{
    public const string Purpose = "OdooOps.NotificationChannels.v1";

    IDataProtector For(Guid orgId) => provider.CreateProtector(Purpose, orgId.ToString("D"));

    public string Protect(Guid orgId, string secret) => For(orgId).Protect(secret);

    /// <summary>The secret, or null when it cannot be decrypted (its key is gone, or it was not made for this organisation).</summary>
    public string? Unprotect(Guid orgId, string? ciphertext)
    {
        if (ciphertext is null) return null;
        try { return For(orgId).Unprotect(ciphertext); }
        catch (CryptographicException) { return null; }
    }
}
