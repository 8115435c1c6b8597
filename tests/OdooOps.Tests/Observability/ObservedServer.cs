using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using Npgsql;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Server;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Observability;

/// <summary>
/// The real server (ServerApp) on a TestServer, configured as shipped (appsettings.json) and with pooled request
/// connections as in production — the test cluster's connection strings turn pooling off, which would leave the
/// pool gauges with nothing to report. Pools are named like production's (odooops-app, odooops-service) plus
/// "-{prefix}", because the Npgsql meter is process-wide and other test servers run beside this one.
/// Log entries go to <see cref="Logs"/>.
/// </summary>
public sealed class ObservedServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly OpsDatabase _database;

    public NpgsqlConnectionStringBuilder Owner { get; }
    public LogCapture Logs { get; }
    public HttpClient Client { get; }

    ObservedServer(WebApplication app, OpsDatabase database, NpgsqlConnectionStringBuilder owner, LogCapture logs)
    {
        _app = app;
        _database = database;
        Owner = owner;
        Logs = logs;
        Client = app.GetTestClient();
    }

    public static async Task<ObservedServer> StartAsync(PostgresCluster cluster, string prefix)
    {
        var owner = await cluster.CreateDatabaseAsync(prefix);
        var credentials = await LoginRoles.EnsureAsync(owner);
        NpgsqlDataSource Pooled(NpgsqlConnectionStringBuilder cs) => NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(cs.ConnectionString) { Pooling = true, ApplicationName = $"{cs.ApplicationName}-{prefix}" });
        var database = new OpsDatabase(Pooled(credentials.App), Pooled(credentials.Service));
        var logs = new LogCapture();
        var app = ServerApp.Build("http://localhost", OpsConfiguration.Build(), database, TestHosts.Secrets, b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders(); // the test output stays quiet; the levels are still appsettings.json's
            b.Logging.AddProvider(logs);
            b.Logging.AddFilter("OdooOps", LogLevel.Trace); // everything OdooOps itself logs, down to Trace
        });
        await app.StartAsync();
        return new ObservedServer(app, database, owner, logs);
    }

    /// <summary>Stops the host, so every request's log entry has been written.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }
}
