using Dapper;
using Npgsql;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>
/// One tenant's instance reaches only its own database, and its HTTP port is reached by the proxy only: each project's
/// databases belong to a role of its own with CONNECT closed to others, OdooOps' own database is closed to them, and a
/// build step (or any sandboxed process) cannot connect to an instance's port, over the host's loopback or slirp's
/// gateway to it.
/// </summary>
public sealed class InstanceIsolationTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await InstanceWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task A_project_role_connects_to_its_own_databases_only()
    {
        var server = OdooDatabaseServer.From(_world.OdooDb)!;
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var (dbA, dbB) = ($"oo-iso-{a:N}", $"oo-iso-{b:N}");
        await server.EnsureDatabaseAsync(a, false, dbA, CancellationToken.None);
        await server.EnsureDatabaseAsync(b, false, dbB, CancellationToken.None);
        var prodA = $"oo-isop-{a:N}";
        await server.EnsureDatabaseAsync(a, true, prodA, CancellationToken.None);

        async Task<string> ConnectAsync(Guid project, string database, bool production = false)
        {
            var env = server.OdooEnvironment(project, production);
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = cluster.Server.SocketDirectory, Port = cluster.Server.Port, Username = env["PGUSER"], Password = env["PGPASSWORD"],
                Database = database, Pooling = false,
            };
            await using var conn = new NpgsqlConnection(builder.ConnectionString);
            try { await conn.OpenAsync(); }
            catch (PostgresException e) { return e.SqlState; }
            try { await conn.ExecuteAsync("create table if not exists t (id int)"); } // it owns its database: Odoo makes its tables
            catch (PostgresException e) { return "connected, " + e.SqlState; }
            return "ok";
        }

        Assert.Equal("ok", await ConnectAsync(a, dbA));
        Assert.Equal("42501", await ConnectAsync(a, dbB)); // permission denied for database
        Assert.Equal("42501", await ConnectAsync(b, dbA));
        Assert.Equal("42501", await ConnectAsync(a, "odooops")); // OdooOps' own database
        // The maintenance database, which Odoo connects to for its database look-ups: open, and nothing to write there.
        Assert.Equal("connected, 42501", await ConnectAsync(a, "postgres"));
        Assert.Equal("ok", await ConnectAsync(b, dbB));
        // Production's data has a role of its own: the project's development and staging code cannot open it.
        Assert.Equal("42501", await ConnectAsync(a, prodA));
        Assert.Equal("ok", await ConnectAsync(a, prodA, production: true));
        Assert.Equal("42501", await ConnectAsync(a, dbA, production: true));
    }

    [Fact]
    public async Task A_build_step_cannot_reach_an_instance_port()
    {
        await _world.StartRunnerAsync();
        var instance = await _world.DeployAsync("main");
        var commit = await _world.World.CommitPipelineAsync($$"""
            steps:
              - name: probe
                run: |
                  for host in 127.0.0.1 10.0.2.2 {{Runners.Agent.Execution.ProcessProbe.ExternalAddress()}}; do
                    python3 -c "import socket,sys; s=socket.socket(); s.settimeout(3); print('$host', 'open' if s.connect_ex(('$host', {{instance.HttpPort}})) == 0 else 'closed')"
                  done
            """);
        await _world.World.Repo.GitAsync("branch", "-f", "feature-x", commit);
        var probe = await _world.World.QueueBuildAsync("feature-x", commit);
        await _world.World.WaitForAsync(probe, TimeSpan.FromSeconds(120));
        var log = await _world.World.LogAsync(probe);
        Assert.Contains("stdout: 127.0.0.1 closed", log);
        Assert.Contains("stdout: 10.0.2.2 closed", log);
        Assert.DoesNotContain(log, l => l.EndsWith(" open", StringComparison.Ordinal));
        // The proxy's side (this host) reaches it.
        using var http = new HttpClient();
        Assert.True((await http.GetAsync($"http://127.0.0.1:{instance.HttpPort}/web/health")).IsSuccessStatusCode);
    }
}
