using Dapper;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops projects network` over PUT /api/ops/projects/{id}/build-network: shown, cut and restored by a project admin
/// (audited), refused with one line for bad flags; the next claimed build carries the switch to its runner.
/// </summary>
public sealed class BuildNetworkVerbTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        await _world.DisposeAsync();
    }

    async Task<Dictionary<string, string>> AsOwnerAsync() =>
        new() { ["ODOOOPS_URL"] = _world.Url.ToString(), ["ODOOOPS_TOKEN"] = await _world.OwnerTokenAsync(), ["NO_COLOR"] = "1" };

    async Task<bool> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<bool>("select build_network from ops.projects where id = @ProjectId", new { _world.ProjectId });
    }

    [Fact]
    public async Task The_switch_is_shown_cut_restored_audited_and_reaches_the_next_claimed_build()
    {
        var env = await AsOwnerAsync();
        var shown = await _sandbox.RunAsync(["projects", "network", "app"], env);
        Assert.Equal((0, "app: build steps may open outbound connections."), (shown.ExitCode, shown.Output.Trim()));

        var off = await _sandbox.RunAsync(["projects", "network", "app", "--off"], env);
        Assert.Equal((0, "app: build steps have no network (the checkout still fetches)."), (off.ExitCode, off.Output.Trim()));
        Assert.False(await StoredAsync());

        var build = await _world.QueueBuildAsync("main", _world.Repo.MainCommits[^1]);
        using (var runner = new DispatchClient(_world.Url, await _world.RunnerTokenAsync()))
        {
            var job = Assert.Single(await runner.NextAsync(1, 5, TestContext.Current.CancellationToken));
            Assert.Equal(build, job.BuildId);
            Assert.False(job.NetworkAccess);
        }

        Assert.Equal(0, (await _sandbox.RunAsync(["projects", "network", "app", "--on"], env)).ExitCode);
        Assert.True(await StoredAsync());
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where action = 'project.build_network' and project_id = @ProjectId", new { _world.ProjectId }));
    }

    [Fact]
    public async Task Both_flags_exit_non_zero_with_one_line_and_change_nothing()
    {
        var result = await _sandbox.RunAsync(["projects", "network", "app", "--on", "--off"], await AsOwnerAsync());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--on and --off", Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.True(await StoredAsync());
    }
}
