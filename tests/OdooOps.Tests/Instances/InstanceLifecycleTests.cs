using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>
/// Builds end in running Odoo servers, for real: a sandboxed stand-in odoo-bin per instance on its own database,
/// started by the runner that built it, replaced by the next build (production: stopped, updated, started; development:
/// the old one stops once the new one answers), expired, and dropped with its database.
/// </summary>
public sealed class InstanceLifecycleTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync();
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task A_production_build_ends_in_its_release_running_and_the_next_one_replaces_it_recording_the_downtime()
    {
        var first = await _world.DeployAsync("main");
        Assert.True(first.IsCurrent);
        var info = await InstanceWorld.InfoAsync(first.HttpPort!.Value);
        Assert.Equal(first.BuildId.ToString(), info.GetProperty("release").GetString());
        Assert.Equal(first.DatabaseName, info.GetProperty("database").GetString());
        Assert.Equal($"oo-app-{_world.World.ProjectId:N}", first.DatabaseName);
        Assert.Equal(first.BuildId.ToString(), (await _world.ThroughProxyAsync("main.app.localhost")).GetProperty("release").GetString());

        await _world.World.Repo.CommitFilesAsync("a new version", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"));
        var second = await _world.DeployAsync("main");
        Assert.True(second.IsCurrent);
        Assert.Equal(second.BuildId.ToString(), (await InstanceWorld.InfoAsync(second.HttpPort!.Value)).GetProperty("release").GetString());
        // serve's proxy routes the branch's host name to the new release at once.
        await Runners.Agent.Execution.ProcessProbe.WaitUntilAsync(
            () => _world.ThroughProxyAsync("main.app.localhost").Result.GetProperty("release").GetString() == second.BuildId.ToString(),
            TimeSpan.FromSeconds(30), () => "the proxy still routes main.app.localhost to the old release");
        var old = await _world.WaitForInstanceAsync(first.BuildId, i => i.CleanedAt is not null);
        Assert.Equal(("stopped", false, "stopped"), (old.State, old.IsCurrent, old.Desired));
        Assert.NotNull(old.RetiredAt);
        var switched = await _world.WaitForInstanceAsync(second.BuildId, i => i.DowntimeMs is not null);
        Assert.InRange(switched.DowntimeMs!.Value, 0, 120_000);
        // Production keeps its database: the update ran on it and the new release serves it.
        Assert.True(await DatabaseExistsAsync(first.DatabaseName));
    }

    [Fact]
    public async Task A_development_instance_is_replaced_once_the_new_one_answers_and_expires_with_its_database()
    {
        await _world.World.Repo.GitAsync("branch", "-f", "feature-x", "main");
        var first = await _world.DeployAsync("feature-x");
        Assert.StartsWith("oo-app-", first.DatabaseName);
        Assert.True(await DatabaseExistsAsync(first.DatabaseName));
        var commit = await _world.World.Repo.CommitFilesAsync("more", ("addons/sale_extra/data.xml", "<odoo/>"));
        await _world.World.Repo.GitAsync("branch", "-f", "feature-x", commit);
        var second = await _world.DeployAsync("feature-x", commit);
        var old = await _world.WaitForInstanceAsync(first.BuildId, i => i.CleanedAt is not null);
        Assert.False(old.IsCurrent);
        Assert.False(await DatabaseExistsAsync(first.DatabaseName));
        Assert.True((await _world.WaitForInstanceAsync(second.BuildId, i => i.IsCurrent)).IsCurrent);

        await using (var conn = await Accounts.OpenAsync(_world.World.Owner))
            await conn.ExecuteAsync("update ops.instances set expires_at = now() where id = @Id", new { second.Id });
        var expired = await _world.WaitForInstanceAsync(second.BuildId, i => i.CleanedAt is not null);
        Assert.StartsWith("expired", expired.Reason);
        Assert.False(await DatabaseExistsAsync(second.DatabaseName));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{second.HttpPort}/web/health"));
    }

    async Task<bool> DatabaseExistsAsync(string name)
    {
        await using var conn = new Npgsql.NpgsqlConnection(cluster.ConnectionString("postgres").ConnectionString);
        await conn.OpenAsync();
        return await conn.ExecuteScalarAsync<int>("select count(*) from pg_database where datname = @name", new { name }) == 1;
    }
}
