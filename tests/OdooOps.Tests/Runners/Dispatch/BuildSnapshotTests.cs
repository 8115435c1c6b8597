using System.Net.Http.Json;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Dispatch;

/// <summary>
/// A build gets the stage, environment and secrets of the moment it was queued, not of the moment a runner claims it:
/// a variable changed and the branch moved to another stage in between do not reach it. The snapshot is taken even when
/// a tester (who cannot read the variables) queues the build, the request role cannot read it, and it goes when the
/// build ends.
/// </summary>
public sealed class BuildSnapshotTests(PostgresCluster cluster)
{
    [Fact]
    public async Task A_queued_build_runs_with_the_stage_and_variables_it_was_queued_with()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("""
                insert into ops.env_vars (project_id, stage, name, value, is_secret) values
                    (@ProjectId, 'development', 'MODE', 'queued-value', false),
                    (@ProjectId, 'development', 'API_KEY', 'queued-secret', true),
                    (@ProjectId, 'staging', 'MODE', 'staging-value', false),
                    (@ProjectId, 'staging', 'STAGING_KEY', 'staging-secret', true)
                """, new { world.ProjectId });
        var tester = await Accounts.CreateUserAsync(world.Owner, "tester@runner-org.test", world.OrgId, "tester");
        using var api = new HttpClient { BaseAddress = world.Url }.WithToken(await Accounts.CreateTokenAsync(world.Owner, tester));
        var queued = await api.PostAsJsonAsync("/api/ops/builds", new { project_id = world.ProjectId, branch = "feature-x" });
        Assert.True(queued.IsSuccessStatusCode, await queued.Content.ReadAsStringAsync());
        var buildId = (await queued.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetGuid();

        // Between queueing and claiming: the variable changes, a secret is added, the branch moves to staging.
        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("""
                update ops.env_vars set value = 'changed-value' where project_id = @ProjectId and name = 'MODE' and stage = 'development';
                insert into ops.env_vars (project_id, stage, name, value, is_secret) values (@ProjectId, 'development', 'LATE', 'late-secret', true);
                update ops.branches set stage = 'staging' where project_id = @ProjectId and name = 'feature-x';
                """, new { world.ProjectId });

        // The tester who queued it cannot read what it runs with.
        var creds = await LoginRoles.EnsureAsync(world.Owner);
        await using (var app = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(creds.App.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await app.OpenAsync();
            await app.ExecuteAsync("select set_config('ops.user_id', @id, false)", new { id = tester.ToString() });
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteScalarAsync("select env from ops_private.build_snapshots"))).SqlState);
            Assert.Empty(await app.QueryAsync("select 1 from ops.env_vars where project_id = @ProjectId", new { world.ProjectId }));
        }

        using var runner = await world.ClientAsync();
        var job = Assert.Single(await runner.NextAsync(1, 5, default));
        Assert.Equal(buildId, job.BuildId);
        Assert.Equal("development", job.Stage);
        Assert.Equal(["API_KEY=queued-secret", "MODE=queued-value"], job.Env.Select(e => $"{e.Key}={e.Value}").Order().ToArray());
        Assert.Equal(["API_KEY"], job.SecretNames);

        await runner.DoneAsync(job, "success", null, default);
        await using var check = await Accounts.OpenAsync(world.Owner);
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("select count(*) from ops_private.build_snapshots where build_id = @buildId", new { buildId }));
    }
}
