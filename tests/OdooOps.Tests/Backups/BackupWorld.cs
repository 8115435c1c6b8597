using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// A real serve (Kestrel on loopback) over <see cref="TwoTenants"/>, with personal access tokens for every role of A and
/// B's owner, keeping backups in a temporary folder (the real folder storage). Staging has a host too, so restores into
/// it queue.
/// </summary>
public sealed class BackupWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public LiveServer Server { get; private set; } = null!;
    public TwoTenants Tenants { get; private set; } = null!;
    public Tenant A => Tenants.A;
    public Tenant B => Tenants.B;
    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), $"odooops-backup-api-{Guid.NewGuid():N}");
    /// <summary>Where the server keeps backup zips (OPS_BACKUP_STORAGE).</summary>
    public string StorageFolder => Path.Combine(DataDir, "store");
    readonly Dictionary<(string, TenantRole), string> _tokens = [];

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "backups", new Dictionary<string, string?>
        {
            ["OPS_DATA_DIR"] = DataDir, ["OPS_BACKUP_STORAGE"] = StorageFolder,
        });
        await using (var owner = await Accounts.OpenAsync(Server.Owner))
            Tenants = await TwoTenants.BuildAsync(owner);
        foreach (var tenant in new[] { A, B })
        {
            await BackupRows.HostAsync(Server.Owner, tenant.ProjectId, "staging", tenant.RunnerId);
            foreach (var role in Enum.GetValues<TenantRole>())
                _tokens[(tenant.Key, role)] = await Accounts.CreateTokenAsync(Server.Owner, tenant.User(role));
        }
    }

    public string Token(Tenant tenant, TenantRole role) => _tokens[(tenant.Key, role)];

    public HttpClient Client(Tenant tenant, TenantRole role) =>
        new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false }) { BaseAddress = new Uri(Server.Url) }
            .WithToken(Token(tenant, role));

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Server.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Server.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
