using Dapper;
using Npgsql;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Runners.Tasks;

/// <summary>
/// Safe production deploys with a real runner and the stand-in: an update that changes a module's version takes a
/// pre-deploy backup first; when the update fails (the stand-in told to fail it), the backup goes back, the previous
/// release serves again on the database as it was, and the build fails "reverted to" that release. A staging build
/// starts from production's verified backup, updated and neutralised before its server starts.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class SafeDeployTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync();
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    NpgsqlConnection Odoo(string database, bool production) =>
        new(OdooDatabaseServer.From(_world.OdooDb)!.ProjectConnection(_world.World.ProjectId, production, database).ConnectionString);

    [Fact]
    public async Task A_failed_production_update_puts_the_pre_deploy_backup_back_and_serves_the_previous_release()
    {
        var a = await _world.DeployAsync("main");
        await using (var conn = Odoo(a.DatabaseName, production: true))
            await conn.ExecuteAsync("insert into res_users (login, active) values ('customer-data', true)");
        List<string> users;
        await using (var conn = Odoo(a.DatabaseName, production: true))
            users = [.. await conn.QueryAsync<string>("select login from res_users order by id")];

        // The next commit changes the module's version and tells the stand-in to fail its update.
        await _world.World.Repo.CommitFilesAsync("a broken update", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"),
            ("standin.json", "{\"STANDIN_FAIL_UPDATE\": true}"));
        var b = await _world.World.QueueBuildAsync("main");
        var build = await _world.World.WaitForAsync(b, TimeSpan.FromSeconds(180));
        var log = string.Join("\n", await _world.World.LogAsync(b));
        Assert.True(build.Status == "failed", log);
        Assert.Contains($"Reverted to build {a.BuildId}", build.ResultDetail);
        Assert.Contains("pre-deploy backup", log);

        await using (var conn = await Accounts.OpenAsync(_world.World.Owner))
        {
            var backup = await conn.QuerySingleAsync<(string Kind, string Status)>("select kind, status from ops.backups where build_id = @b", new { b });
            Assert.Equal(("pre-deploy", "succeeded"), backup);
            var deployment = await conn.QuerySingleAsync<(string Status, Guid? RevertedTo)>(
                "select status, reverted_to_build_id from ops.deployments where build_id = @b", new { b });
            Assert.Equal(("reverted", (Guid?)a.BuildId), deployment);
        }
        // The previous release answers again, on the database as it was before the update.
        var back = await _world.WaitForInstanceAsync(a.BuildId, i => i.State == "running" && i.StartedAt > a.StartedAt);
        var info = await InstanceWorld.InfoAsync(back.HttpPort!.Value);
        Assert.Equal(a.BuildId.ToString(), info.GetProperty("release").GetString());
        Assert.Equal("19.0.1.0.0", info.GetProperty("modules").GetProperty("sale_extra").GetString());
        await using (var conn = Odoo(a.DatabaseName, production: true))
            Assert.Equal(users, [.. await conn.QueryAsync<string>("select login from res_users order by id")]);
    }

    [Fact]
    public async Task A_staging_build_starts_from_production_s_verified_backup_and_is_neutralised()
    {
        var production = await _world.DeployAsync("main");
        await using (var conn = Odoo(production.DatabaseName, production: true))
            await conn.ExecuteAsync("insert into res_users (login, active) values ('customer-data', true)");
        Guid prodBranch, backupId;
        await using (var conn = await Accounts.OpenAsync(_world.World.Owner))
        {
            prodBranch = await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = 'main'", new { _world.World.ProjectId });
            backupId = await conn.ExecuteScalarAsync<Guid>("select ops_private.queue_backup(@prodBranch, 'manual', null, null)", new { prodBranch });
        }
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            await using var conn = await Accounts.OpenAsync(_world.World.Owner);
            if (await conn.ExecuteScalarAsync<string>("select verification from ops.backups where id = @backupId", new { backupId }) == "verified") break;
            Assert.True(DateTime.UtcNow < deadline, $"backup {backupId} not verified; runner:\n{_world.RunnerLog.Tail()}");
            await Task.Delay(200);
        }

        await _world.World.Repo.GitAsync("branch", "-f", "staging", "main");
        InstanceWorld.InstanceRow staging;
        try { staging = await _world.DeployAsync("staging"); }
        catch (TimeoutException e) { throw new TimeoutException($"{e.Message}\nrunner:\n{_world.RunnerLog.Tail()}", e); }
        var log = string.Join("\n", await _world.World.LogAsync(staging.BuildId));
        Assert.Contains($"Copying production from its backup {backupId}", log);
        await using (var conn = Odoo(staging.DatabaseName, production: false))
        {
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from res_users where login = 'customer-data'"));
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ir_mail_server where active and smtp_host is distinct from 'invalid'"));
            Assert.Equal("true", await conn.ExecuteScalarAsync<string>("select value from ir_config_parameter where key = 'database.is_neutralized'"));
        }
        Assert.Contains("neutralize", log);
    }
}
