using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace OdooOps.Projects;

/// <summary>
/// Encrypts repository credentials before they reach the database and decrypts them for a build's runner, with the
/// server's data-protection keys (never stored beside the ciphertext in clear: see Auth/DatabaseKeyRepository). The
/// purpose names the project too, so a ciphertext copied onto another project's row does not decrypt there.
/// </summary>
internal sealed class RepoCredentialProtector(IDataProtectionProvider provider)
{
    public const string Purpose = "OdooOps.RepoCredentials.v1";

    IDataProtector For(Guid projectId) => provider.CreateProtector(Purpose, projectId.ToString("D"));

    public string Protect(Guid projectId, string secret) => For(projectId).Protect(secret);

    /// <summary>The secret, or null when it cannot be decrypted (its key is gone, or the text was not made for this project).</summary>
    public string? Unprotect(Guid projectId, string ciphertext)
    {
        try { return For(projectId).Unprotect(ciphertext); }
        catch (CryptographicException) { return null; }
    }
}
