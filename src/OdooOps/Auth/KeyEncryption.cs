using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using OdooOps.Secrets;

namespace OdooOps.Auth;

/// <summary>
/// Data Protection's key-encryption extension point, with the <see cref="SecretsKey"/>: the framework hands over each
/// key's secret part (the element it marks requiresEncryption) and stores what this returns, so the database holds
/// the keys only encrypted. AES-256-GCM, a fresh 96-bit nonce per key; the element names the secrets key's
/// fingerprint so that a server with another key can say so at start instead of failing to decrypt later.
/// </summary>
internal sealed class SecretsKeyXmlEncryptor(SecretsKey key) : IXmlEncryptor
{
    public static readonly XName Element = XName.Get("secretsKeyEncrypted", "urn:odooops:secrets-key");
    static readonly byte[] Context = Encoding.UTF8.GetBytes("odooops data-protection key");

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var (nonce, tag, ciphertext) = key.Seal(plaintext, Context);
        CryptographicOperations.ZeroMemory(plaintext);
        return new EncryptedXmlInfo(
            new XElement(Element,
                new XAttribute("keyId", key.Id),
                new XAttribute("nonce", Convert.ToBase64String(nonce)),
                new XAttribute("tag", Convert.ToBase64String(tag)),
                Convert.ToBase64String(ciphertext)),
            typeof(SecretsKeyXmlDecryptor));
    }

    /// <summary>The fingerprint of the secrets key an encrypted element was made with.</summary>
    public static string? KeyIdOf(XElement encrypted) => (string?)encrypted.Attribute("keyId");

    public static XElement Decrypt(SecretsKey key, XElement encrypted)
    {
        if (KeyIdOf(encrypted) != key.Id)
            throw new CryptographicException(
                $"This data-protection key was encrypted with secrets key {KeyIdOf(encrypted)}, not with this server's ({key.Id}, from {key.Source}).");
        var nonce = Convert.FromBase64String((string)encrypted.Attribute("nonce")!);
        var tag = Convert.FromBase64String((string)encrypted.Attribute("tag")!);
        var ciphertext = Convert.FromBase64String(encrypted.Value);
        var plaintext = key.Open(nonce, tag, ciphertext, Context);
        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>
/// The decrypting half, which the framework creates by the type name stored beside each encrypted key, handing it the
/// services (the constructor it looks for).
/// </summary>
internal sealed class SecretsKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        SecretsKeyXmlEncryptor.Decrypt(
            services.GetRequiredService<OpsSecrets>().Key ?? throw new InvalidOperationException("This server has no secrets key."),
            encryptedElement);
}
