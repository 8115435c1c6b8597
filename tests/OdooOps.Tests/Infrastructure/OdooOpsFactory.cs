using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OdooOps.Database;
using OdooOps.Secrets;
using OdooOps.Server;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// The real server (ServerApp, as `odooops serve` builds it) on a database of its own, through
/// WebApplicationFactory on an in-memory TestServer. The binary's entry point is a CLI, so the factory is
/// handed our host directly instead of intercepting Main.
/// </summary>
/// <param name="secrets">The server's secrets (default: <see cref="TestHosts.Secrets"/>).</param>
/// <param name="settings">Server settings on top of the test defaults.</param>
public sealed class OdooOpsFactory(NpgsqlConnectionStringBuilder owner, LoginRoles.Credentials credentials, OpsSecrets? secrets = null,
    IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    OpsDatabase? _database;

    public NpgsqlConnectionStringBuilder Owner => owner;

    public static async Task<OdooOpsFactory> CreateAsync(PostgresCluster cluster, string prefix = "api", IDictionary<string, string?>? settings = null)
    {
        var owner = await cluster.CreateDatabaseAsync(prefix);
        return new OdooOpsFactory(owner, await LoginRoles.EnsureAsync(owner), settings: settings);
    }

    protected override IHostBuilder CreateHostBuilder() => new HostBuilder(); // replaced in CreateHost

    protected override IHost CreateHost(IHostBuilder builder)
    {
        _database = OpsDatabase.Create(credentials);
        var app = TestHosts.Build(_database, "http://localhost", b => b.WebHost.UseTestServer(), settings, secrets);
        app.Start();
        return app;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}

/// <summary>The same server on a real Kestrel loopback port, for browser tests and anything that needs a socket.</summary>
public sealed class LiveServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly OpsDatabase _database;

    public NpgsqlConnectionStringBuilder Owner { get; }
    public string Url { get; }
    public IServiceProvider Services => _app.Services;

    LiveServer(WebApplication app, OpsDatabase database, NpgsqlConnectionStringBuilder owner)
    {
        _app = app;
        _database = database;
        Owner = owner;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    /// <param name="settings">Server settings for this test (e.g. shorter intervals), on top of the test defaults.</param>
    /// <param name="configure">Services to swap (e.g. a DNS resolver of the test's own).</param>
    public static async Task<LiveServer> StartAsync(PostgresCluster cluster, string prefix = "web", IDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var owner = await cluster.CreateDatabaseAsync(prefix);
        var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var app = TestHosts.Build(database, "http://127.0.0.1:0", configure, settings);
        await app.StartAsync();
        return new LiveServer(app, database, owner);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }
}

static class TestHosts
{
    /// <summary>The shared secrets every test server uses, so tests can present them.</summary>
    public const string IngestToken = "test-ingest-token-0123456789abcdef0123456789abcdef";
    public const string AdvisoryScanToken = "test-advisory-token-0123456789abcdef0123456789abcdef";

    /// <summary>The secrets key of every test server (test databases are throwaway; one key lets any server read any of them).</summary>
    public static readonly SecretsKey SecretsKey = SecretsKey.Parse(new string('7', 64), "test secrets key");

    /// <summary>This test run's data dir (the backup storage's folder and spool), under the temp folder.</summary>
    public static readonly string DataDir = Path.Combine(Path.GetTempPath(), $"odooops-test-data-{Environment.ProcessId}");

    public static readonly OpsSecrets Secrets = new(new Dictionary<string, string>
    {
        [OpsSecrets.IngestToken] = IngestToken,
        [OpsSecrets.AdvisoryScanToken] = AdvisoryScanToken,
    }, SecretsKey);

    /// <param name="settings">Server settings on top of these defaults, seen from the start (settings read while the
    /// host is built, such as OPS_BUILD_LOG_MAX_BYTES or the scheduler's crons, too).</param>
    public static WebApplication Build(OpsDatabase database, string urls, Action<WebApplicationBuilder>? configure = null,
        IDictionary<string, string?>? settings = null, OpsSecrets? secrets = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["OPS_RUNNERS"] = "0", // runner tests start their own (TestServer has no port to reach)
            ["OPS_ALLOW_LOCAL_REPOS"] = "1", // test projects' repositories are folders; tests of the rule turn it off
            ["OPS_DATA_DIR"] = DataDir, // backup storage and upload spool: never the machine's own data dir
            // A test server's production branches would otherwise get their daily backup at once (the day's slot has
            // passed): backups only where a test asks (the schedule's tests run its tick themselves).
            ["OPS_JOB_backup_schedule"] = "0 0 29 2 *",
            // Nor the advisory scan every five minutes: it would add and resolve advisories beside those a test
            // seeded, whenever the clock crosses a tick. Tests of the scan run it, or give back its default cron.
            ["OPS_JOB_advisory_scan"] = "0 0 29 2 *",
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        // Domain checks resolve through the tests' own map, never the network; a test's configure may bring another.
        return ServerApp.Build(urls, config, database, secrets ?? Secrets, b =>
        {
            b.Services.AddSingleton(OdooOps.Tests.Instances.Domains.TestDns.Default);
            configure?.Invoke(b);
        });
    }
}
