using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Runners.Agent.Execution;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// Deployments for real: builds run by a runner that hosts sandboxed stand-in Odoo servers record their deployments as
/// they go live (production at once with its downtime, development at the switch), the production update's log shows
/// its plan first, and a rollback restarts the earlier release from the folder its host kept: the branch's host name
/// then answers with that release, on the branch's database as it was (a development rollback keeps its predecessor's
/// database alive when that one retires).
/// </summary>
public sealed class DeploymentLifecycleTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync();
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    sealed record Row(Guid Id, Guid? BuildId, string Status, string Kind, long? SwitchMs, DateTime? EndedAt, Guid? RollbackOf, Guid? InstanceId,
        string? CommitSha);

    async Task<Row> DeploymentOfAsync(Guid buildId, string kind = "build")
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return await conn.QuerySingleAsync<Row>("""
            select id, build_id, status, kind, switch_ms, ended_at, rollback_of, instance_id, commit_sha from ops.deployments
             where build_id = @buildId and kind = @kind order by created_at desc limit 1
            """, new { buildId, kind });
    }

    async Task<Row> WaitForDeploymentAsync(Guid buildId, Func<Row, bool> condition, string kind = "build")
    {
        Row? last = null;
        await ProcessProbe.WaitUntilAsync(() => condition(last = DeploymentOfAsync(buildId, kind).Result), TimeSpan.FromSeconds(90),
            () => $"deployment of build {buildId}: {last}; runner:\n{_world.RunnerLog.Tail()}");
        return last!;
    }

    async Task<InstanceWorld.InstanceRow> WaitForInstanceAsync(Guid instanceId, Func<InstanceWorld.InstanceRow, bool> condition)
    {
        InstanceWorld.InstanceRow? last = null;
        await ProcessProbe.WaitUntilAsync(() => (last = _world.InstancesAsync().Result.Single(i => i.Id == instanceId)) is var row && condition(row),
            TimeSpan.FromSeconds(90), () => $"instance {instanceId}: {last}; runner:\n{_world.RunnerLog.Tail()}");
        return last!;
    }

    async Task<JsonElement> RollbackAsync(Guid deploymentId)
    {
        using var api = await _world.World.OwnerApiAsync();
        using var response = await api.PostAsJsonAsync($"/api/ops/deployments/{deploymentId}/rollback", new { });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Production_deployments_go_live_with_their_downtime_and_a_rollback_serves_the_earlier_release_again()
    {
        var a = await _world.DeployAsync("main");
        await _world.World.Repo.CommitFilesAsync("a new version", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"));
        var b = await _world.DeployAsync("main");

        // The update's log said what it would do, before doing it.
        var log = await _world.World.LogAsync(b.BuildId);
        Assert.Contains(log, l => l.Contains("Deploy plan: install 0, update 1, unchanged 0."));
        Assert.Contains(log, l => l.Contains("update  sale_extra: version changed 19.0.1.0.0 → 19.0.1.1.0"));

        var live = await WaitForDeploymentAsync(b.BuildId, d => d.Status == "live" && d.SwitchMs is not null);
        Assert.Equal(b.Id, live.InstanceId);
        Assert.InRange(live.SwitchMs!.Value, 0, 120_000);
        var first = await DeploymentOfAsync(a.BuildId);
        Assert.Equal("superseded", first.Status);
        Assert.NotNull(first.EndedAt);

        var answer = await RollbackAsync(first.Id);
        var rollback = answer.GetProperty("deployment");
        Assert.Equal(("rollback", "live"), (rollback.GetProperty("kind").GetString(), rollback.GetProperty("status").GetString()));
        Assert.Contains("database is not rolled back", answer.GetProperty("message").GetString());
        var instance = await WaitForInstanceAsync(rollback.GetProperty("instance_id").GetGuid(), i => i.State == "running");
        Assert.Equal((a.BuildId, b.DatabaseName, true), (instance.BuildId, instance.DatabaseName, instance.IsCurrent));
        Assert.Equal(a.BuildId.ToString(), (await InstanceWorld.InfoAsync(instance.HttpPort!.Value)).GetProperty("release").GetString());
        // The branch's host name answers with the earlier release.
        await ProcessProbe.WaitUntilAsync(
            () => _world.ThroughProxyAsync("main.app.localhost").Result.GetProperty("release").GetString() == a.BuildId.ToString(),
            TimeSpan.FromSeconds(30), () => "main.app.localhost still answers with the later release");

        Assert.Equal("rolled_back", (await DeploymentOfAsync(b.BuildId)).Status);
        var back = await WaitForDeploymentAsync(a.BuildId, d => d.SwitchMs is not null, kind: "rollback");
        Assert.Equal(("live", live.Id), (back.Status, back.RollbackOf));
        await _world.WaitForInstanceAsync(b.BuildId, i => i.CleanedAt is not null);
    }

    [Fact]
    public async Task A_development_rollback_switches_once_the_release_answers_and_keeps_the_database_it_runs_on()
    {
        await _world.World.Repo.GitAsync("branch", "-f", "feature-x", "main");
        var a = await _world.DeployAsync("feature-x");
        var commit = await _world.World.Repo.CommitFilesAsync("more", ("addons/sale_extra/data.xml", "<odoo/>"));
        await _world.World.Repo.GitAsync("branch", "-f", "feature-x", commit);
        var b = await _world.DeployAsync("feature-x", commit);
        await _world.WaitForInstanceAsync(a.BuildId, i => i.CleanedAt is not null);
        var live = await WaitForDeploymentAsync(b.BuildId, d => d.Status == "live");
        Assert.Equal(0, live.SwitchMs); // the previous server answered until this one did
        var first = await DeploymentOfAsync(a.BuildId);
        Assert.Equal("superseded", first.Status);

        var answer = await RollbackAsync(first.Id);
        var instanceId = answer.GetProperty("deployment").GetProperty("instance_id").GetGuid();
        var back = await WaitForDeploymentAsync(a.BuildId, d => d.Status == "live", kind: "rollback");
        Assert.Equal(live.Id, back.RollbackOf);
        Assert.Equal("rolled_back", (await DeploymentOfAsync(b.BuildId)).Status);
        var instance = await WaitForInstanceAsync(instanceId, i => i.IsCurrent && i.State == "running");
        var info = await InstanceWorld.InfoAsync(instance.HttpPort!.Value);
        Assert.Equal((a.BuildId.ToString(), b.DatabaseName), (info.GetProperty("release").GetString(), info.GetProperty("database").GetString()));

        // The replaced server is cleaned up, but the database the rollback runs on is not dropped with it.
        await _world.WaitForInstanceAsync(b.BuildId, i => i.CleanedAt is not null);
        Assert.True(await DatabaseExistsAsync(b.DatabaseName));
        Assert.Equal(a.BuildId.ToString(), (await _world.ThroughProxyAsync("feature-x.app.localhost")).GetProperty("release").GetString());
    }

    async Task<bool> DatabaseExistsAsync(string name)
    {
        await using var conn = new Npgsql.NpgsqlConnection(cluster.ConnectionString("postgres").ConnectionString);
        await conn.OpenAsync();
        return await conn.ExecuteScalarAsync<int>("select count(*) from pg_database where datname = @name", new { name }) == 1;
    }
}
