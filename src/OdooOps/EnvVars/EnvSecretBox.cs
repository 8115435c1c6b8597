using System.Security.Cryptography;
using System.Text;
using OdooOps.Secrets;

namespace OdooOps.EnvVars;

/// <summary>
/// Seals a secret variable's value before it reaches the database and opens it for the runner that needs it, with the
/// <see cref="SecretsKey"/> (OPS_SECRETS_KEY or the data dir's secrets.key; never in the database). AES-256-GCM; the
/// project, stage and name are authenticated with it, so a sealed value copied onto another variable or project does
/// not open there. Text: <c>v1.&lt;key id&gt;.&lt;base64 nonce|tag|ciphertext&gt;</c>, naming the key it needs.
/// </summary>
internal sealed class EnvSecretBox(SecretsKey key)
{
    const string Version = "v1";

    public static EnvSecretBox From(OpsSecrets secrets) => new(secrets.Key ??
        throw new InvalidOperationException($"No secrets key: set {SecretsKey.Setting} or let `odooops serve` create <data-dir>/{SecretsKey.FileName}."));

    public string Seal(Guid projectId, string stage, string name, string value)
    {
        var plaintext = Encoding.UTF8.GetBytes(value);
        var (nonce, tag, ciphertext) = key.Seal(plaintext, Context(projectId, stage, name));
        CryptographicOperations.ZeroMemory(plaintext);
        return $"{Version}.{key.Id}.{Convert.ToBase64String([.. nonce, .. tag, .. ciphertext])}";
    }

    /// <summary>The value, or null when it does not open here: another secrets key, or another variable's.</summary>
    public string? Open(Guid projectId, string stage, string name, string sealedText)
    {
        if (sealedText.Split('.') is not [Version, var keyId, var body] || keyId != key.Id) return null;
        var bytes = new byte[body.Length];
        if (!Convert.TryFromBase64String(body, bytes, out var length) || length < 28) return null;
        try
        {
            var plaintext = key.Open(bytes.AsSpan(0, 12), bytes.AsSpan(12, 16), bytes.AsSpan(28, length - 28), Context(projectId, stage, name));
            return Encoding.UTF8.GetString(plaintext);
        }
        catch (CryptographicException) { return null; }
    }

    /// <summary>Opens every sealed value of <paramref name="sealedEnv"/> into <paramref name="env"/>; the names that did not open.</summary>
    public List<string> OpenInto(Dictionary<string, string> env, IReadOnlyDictionary<string, string> sealedEnv, Guid projectId, string stage)
    {
        var failed = new List<string>();
        foreach (var (name, sealedText) in sealedEnv)
        {
            if (Open(projectId, stage, name, sealedText) is { } value) env[name] = value;
            else failed.Add(name);
        }
        return failed;
    }

    static byte[] Context(Guid projectId, string stage, string name) =>
        Encoding.UTF8.GetBytes($"odooops env var\0{projectId:D}\0{stage}\0{name}");
}
