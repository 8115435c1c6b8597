using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// A real serve (Kestrel on loopback) over <see cref="TwoTenants"/>, with personal access tokens for every role of A and
/// B's owner; backup files in memory (its own <see cref="TestBackupFiles"/>), whose download links point at a small file
/// host of the test's (standing in for the storage's signed links). Staging has a host too, so restores into it queue.
/// </summary>
public sealed class BackupWorld(PostgresCluster cluster) : IAsyncLifetime
{
    internal TestBackupFiles Files { get; } = new();
    public LiveServer Server { get; private set; } = null!;
    public TwoTenants Tenants { get; private set; } = null!;
    public Tenant A => Tenants.A;
    public Tenant B => Tenants.B;
    public string FileHostUrl { get; private set; } = "";
    readonly Dictionary<(string, TenantRole), string> _tokens = [];
    WebApplication? _fileHost;

    public async ValueTask InitializeAsync()
    {
        _fileHost = await StartFileHostAsync();
        Files.LinkBase = FileHostUrl;
        Server = await LiveServer.StartAsync(cluster, "backups", configure: b => b.Services.AddSingleton(Files.Hooks));
        await using (var owner = await Accounts.OpenAsync(Server.Owner))
        {
            Tenants = await TwoTenants.BuildAsync(owner);
            await owner.ExecuteAsync(BackupRows.QueueVerifyStub);
        }
        foreach (var tenant in new[] { A, B })
        {
            await BackupRows.HostAsync(Server.Owner, tenant.ProjectId, "staging", tenant.RunnerId);
            foreach (var role in Enum.GetValues<TenantRole>())
                _tokens[(tenant.Key, role)] = await Accounts.CreateTokenAsync(Server.Owner, tenant.User(role));
        }
    }

    /// <summary>Serves the stored files at /files/{key}, as a signed link would.</summary>
    async Task<WebApplication> StartFileHostAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/files/{*key}", (string key) => Files.Stored.TryGetValue(Uri.UnescapeDataString(key), out var bytes)
            ? Results.File(bytes, "application/zip")
            : Results.NotFound());
        await app.StartAsync();
        FileHostUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return app;
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
        if (_fileHost is not null) await _fileHost.DisposeAsync();
    }
}
