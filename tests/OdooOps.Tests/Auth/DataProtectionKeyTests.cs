using System.Net;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Secrets;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>
/// Data-protection keys (they protect session cookies and the credentials stored with them) are in the database, so a
/// reader of the database — a dump, a replica, another database's login before the roles were per database — must not
/// find their secret in clear: it is encrypted with the secrets key, which is not in the database.
/// </summary>
public sealed class DataProtectionKeyTests(PostgresCluster cluster) : IDisposable
{
    readonly string _dataDir = Directory.CreateTempSubdirectory("odooops-dpkeys-").FullName;

    [Fact]
    public async Task Keys_are_stored_encrypted_a_server_with_the_key_file_reads_the_cookies_and_one_with_another_key_refuses_to_start()
    {
        var owner = await cluster.CreateDatabaseAsync("dpkeys");
        var credentials = await LoginRoles.EnsureAsync(owner);
        var output = new StringWriter();
        var key = SecretsKey.Resolve(new ConfigurationBuilder().Build(), _dataDir, output);
        var keyFile = SecretsKey.DefaultPath(_dataDir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.Contains(keyFile, output.ToString());

        string cookie;
        await using (var first = new OdooOpsFactory(owner, credentials, SecretsWith(key)))
        {
            var org = await Accounts.CreateOrgAsync(owner, "dpkeys");
            await Accounts.CreateUserAsync(owner, "dp@x.test", org, "viewer");
            var signIn = await Accounts.SignInAsync(first.CreateClient(new() { AllowAutoRedirect = false }), "dp@x.test");
            cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith($"{AuthSetup.CookieName}=")).Split(';')[0];
        }

        // In the database: the key's secret only encrypted.
        var stored = await StoredKeysAsync(owner);
        Assert.NotEmpty(stored);
        foreach (var xml in stored)
        {
            var element = XElement.Parse(xml);
            Assert.DoesNotContain(element.Descendants(), e => e.Name.LocalName == "masterKey");
            var encrypted = Assert.Single(element.Descendants(SecretsKeyXmlEncryptor.Element));
            var secret = SecretsKeyXmlEncryptor.Decrypt(key, encrypted).Descendants().Single(e => e.Name.LocalName == "value").Value;
            Assert.True(secret.Length >= 40);
            Assert.DoesNotContain(secret, xml);
        }

        // A server that reads the same key file (a restart, a replica) takes the cookie.
        var again = SecretsKey.Resolve(new ConfigurationBuilder().Build(), _dataDir, TextWriter.Null);
        Assert.Equal(key.Id, again.Id);
        await using (var second = new OdooOpsFactory(owner, credentials, SecretsWith(again)))
        {
            var client = second.CreateClient(new() { AllowAutoRedirect = false });
            client.DefaultRequestHeaders.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/ops/me")).StatusCode);
        }

        // Another key (a lost key file replaced by a new one, a wrong OPS_SECRETS_KEY): one clear line at start.
        var other = SecretsKey.Parse(Convert.ToBase64String(new byte[32]), SecretsKey.Setting);
        await using var third = new OdooOpsFactory(owner, credentials, SecretsWith(other));
        var refusal = Assert.ThrowsAny<Exception>(() => third.CreateClient());
        var message = Messages(refusal);
        Assert.Contains($"encrypted with secrets key {key.Id}", message);
        Assert.Contains($"({other.Id}, from {SecretsKey.Setting}) is another", message);
        Assert.Equal(stored, await StoredKeysAsync(owner)); // and no new key was made
    }

    [Fact]
    public async Task A_key_an_older_version_stored_in_clear_keeps_working_and_is_stored_encrypted_at_the_next_start()
    {
        var owner = await cluster.CreateDatabaseAsync("dplegacy");
        var credentials = await LoginRoles.EnsureAsync(owner);
        string payload;
        await using (var database = OpsDatabase.Create(credentials))
        {
            // What the previous version did: the same repository, no key encryption.
            var services = new ServiceCollection();
            services.AddDataProtection().SetApplicationName("OdooOps");
            services.Configure<KeyManagementOptions>(o => o.XmlRepository = new DatabaseKeyRepository(database));
            await using var provider = services.BuildServiceProvider();
            payload = provider.GetDataProtectionProvider().CreateProtector("test").Protect("a stored credential");
        }
        Assert.Contains(await StoredKeysAsync(owner), xml => xml.Contains("masterKey"));

        var key = SecretsKey.Generate();
        await using var factory = new OdooOpsFactory(owner, credentials, SecretsWith(key));
        factory.CreateClient(); // starts the server

        var stored = await StoredKeysAsync(owner);
        Assert.All(stored, xml => Assert.DoesNotContain("masterKey", xml));
        Assert.All(stored, xml => Assert.Contains(key.Id, xml));
        var protector = factory.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
        Assert.Equal("a stored credential", protector.Unprotect(payload));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=")]
    public void The_key_is_32_bytes_in_hex_or_base64_and_the_setting_wins_over_the_file(string value)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [SecretsKey.Setting] = value }).Build();
        var key = SecretsKey.Resolve(config, _dataDir, TextWriter.Null);
        Assert.Equal(SecretsKey.Setting, key.Source);
        Assert.False(File.Exists(SecretsKey.DefaultPath(_dataDir)));
        Assert.Equal(SecretsKey.Parse("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "x").Id, key.Id);
    }

    [Theory]
    [InlineData("too-short")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8BI0Vn")]
    public void Anything_else_is_refused_naming_where_it_came_from(string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => SecretsKey.Parse(value, SecretsKey.Setting));
        Assert.StartsWith($"{SecretsKey.Setting} is not a secrets key", e.Message);
        Assert.DoesNotContain(value, e.Message);
    }

    static OpsSecrets SecretsWith(SecretsKey key) => new(new Dictionary<string, string>
    {
        [OpsSecrets.IngestToken] = TestHosts.IngestToken,
        [OpsSecrets.AdvisoryScanToken] = TestHosts.AdvisoryScanToken,
    }, key);

    static async Task<List<string>> StoredKeysAsync(NpgsqlConnectionStringBuilder owner)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return [.. await conn.QueryAsync<string>("select xml from ops_private.data_protection_keys order by friendly_name")];
    }

    static string Messages(Exception e) => e is AggregateException a
        ? string.Join(" | ", a.Flatten().InnerExceptions.Select(Messages))
        : e.Message + (e.InnerException is { } inner ? " | " + Messages(inner) : "");

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);
}
