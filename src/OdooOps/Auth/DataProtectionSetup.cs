using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;
using OdooOps.Database;
using OdooOps.Secrets;

namespace OdooOps.Auth;

/// <summary>
/// ASP.NET Core Data Protection (session cookies, antiforgery tokens, credentials other features store with it): keys
/// in the database (<see cref="DatabaseKeyRepository"/>), their secret part encrypted with the <see cref="SecretsKey"/>,
/// which is not in the database (<see cref="SecretsKeyXmlEncryptor"/>).
/// </summary>
internal static class DataProtectionSetup
{
    public static IServiceCollection AddOpsDataProtection(this IServiceCollection services)
    {
        // Hosted services start in the order they were added: the check goes first, before the framework's own, which
        // loads the keys at start and, finding none it can decrypt, would store a new one (whoever added it first).
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DataProtectionKeyCheck>());
        services.AddDataProtection().SetApplicationName("OdooOps");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new DatabaseKeyRepository(sp.GetRequiredService<OpsDatabase>());
            o.XmlEncryptor = new SecretsKeyXmlEncryptor(DataProtectionKeyCheck.KeyOf(sp.GetRequiredService<OpsSecrets>()));
        }));
        return services;
    }
}

/// <summary>
/// At start, before anything listens: every stored key must be readable with this server's secrets key, or the server
/// stops with one line saying which key the database wants (rather than failing to read cookies and credentials later,
/// or making a new key that signs everyone out). Keys an older version stored with their secret part in clear are
/// stored again, encrypted, the way the framework encrypts new ones.
/// </summary>
internal sealed class DataProtectionKeyCheck(OpsDatabase database, OpsSecrets secrets, ILogger<DataProtectionKeyCheck> log) : IHostedService
{
    static readonly XNamespace Framework = "http://schemas.asp.net/2015/03/dataProtection";
    static readonly XName EncryptedSecret = Framework + "encryptedSecret";
    static readonly XName RequiresEncryption = Framework + "requiresEncryption";

    public static SecretsKey KeyOf(OpsSecrets secrets) => secrets.Key ??
        throw new InvalidOperationException($"No secrets key: set {SecretsKey.Setting} or let `odooops serve` create <data-dir>/{SecretsKey.FileName}.");

    public async Task StartAsync(CancellationToken ct)
    {
        var key = KeyOf(secrets);
        IReadOnlyList<(string FriendlyName, string Xml)> rows;
        try
        {
            rows = new DatabaseKeyRepository(database).Rows();
        }
        catch (NpgsqlException e) when (e is not PostgresException)
        {
            log.LogWarning("Data-protection keys not checked at start, the database is unreachable: {Error}", e.Message);
            return;
        }

        var others = rows.SelectMany(r => XElement.Parse(r.Xml).Descendants(SecretsKeyXmlEncryptor.Element))
            .Select(SecretsKeyXmlEncryptor.KeyIdOf).Where(id => id != key.Id).Distinct().ToList();
        if (others.Count > 0)
            throw new InvalidOperationException(
                $"The data-protection keys in the database were encrypted with secrets key {string.Join(", ", others)}, but this server's secrets key " +
                $"({key.Id}, from {key.Source}) is another: set {SecretsKey.Setting} or put back <data-dir>/{SecretsKey.FileName} with the key they were " +
                "made with (a new key would sign everyone out and lose stored credentials; see docs/operations.md).");

        var encryptor = new SecretsKeyXmlEncryptor(key);
        await using var conn = await database.Service.OpenConnectionAsync(ct);
        foreach (var (name, xml) in rows)
        {
            var stored = XElement.Parse(xml);
            var clear = stored.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryption) == true && !e.Ancestors(EncryptedSecret).Any()).ToList();
            if (clear.Count == 0) continue;
            foreach (var secret in clear)
            {
                var encrypted = encryptor.Encrypt(secret);
                secret.ReplaceWith(new XElement(EncryptedSecret,
                    new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!), encrypted.EncryptedElement));
            }
            await DatabaseKeyRepository.ReplaceAsync(conn, name, xml, stored);
            log.LogInformation("Data-protection key {Name} is now stored encrypted with the secrets key.", name);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
