using System.Text.Json;
using Dapper;
using OdooOps.Tests.Deployments;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops deployments list|rollback|plan` and `builds trigger --dry-run`, the real binary against a live server: the
/// history, a production rollback that needs --yes and an admin and says the database is not rolled back, and the dry
/// run that queues nothing. Refusals are one line with a non-zero exit and change nothing.
/// </summary>
public sealed class DeploymentsVerbTests(PostgresCluster cluster) : IAsyncLifetime, IDisposable
{
    readonly CliSandbox _sandbox = new();
    RunnerWorld _world = null!;
    readonly Dictionary<string, string> _tokens = [];
    DeploymentRows.Release[] _main = [];

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        foreach (var role in new[] { "admin", "developer", "viewer" })
            _tokens[role] = await Accounts.CreateTokenAsync(_world.Owner,
                await Accounts.CreateUserAsync(_world.Owner, $"{role}@cli.test", _world.OrgId, role));
        await _world.Repo.CommitFilesAsync("addons", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"));
        var runner = await DeploymentRows.RunnerAsync(_world.Owner, _world.OrgId, "host-1");
        _main = [await DeploymentRows.ReleaseAsync(_world.Owner, _world.ProjectId, "main", runner, "aaaaaaaaaaaa1111"),
                 await DeploymentRows.ReleaseAsync(_world.Owner, _world.ProjectId, "main", runner, "bbbbbbbbbbbb2222")];
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> RunAs(string role, params string[] args) =>
        _sandbox.RunAsync(args, env: new Dictionary<string, string> { ["ODOOOPS_URL"] = _world.Url.ToString(), ["ODOOOPS_TOKEN"] = _tokens[role], ["NO_COLOR"] = "1" });

    static string Ok(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Error);
        return r.Output;
    }

    [Fact]
    public async Task List_shows_the_history_with_outcomes_and_what_may_be_rolled_back_to()
    {
        var table = Ok(await RunAs("admin", "deployments", "list", "app"));
        var lines = table.Split('\n');
        Assert.Contains(lines, l => l.Contains(_main[1].DeploymentId.ToString()) && l.Contains("live") && l.Contains("bbbbbbbbbbbb"));
        Assert.Contains(lines, l => l.Contains(_main[0].DeploymentId.ToString()) && l.Contains("superseded") && l.Contains("✓"));
        using var json = JsonDocument.Parse(Ok(await RunAs("viewer", "deployments", "list", "app", "--branch", "main", "--json")));
        Assert.All(json.RootElement.GetProperty("deployments").EnumerateArray(), d => Assert.False(d.GetProperty("can_roll_back_to").GetBoolean()));
        Assert.Contains("No project 'nope'", CliSandbox.OneLineError(await RunAs("viewer", "deployments", "list", "nope")));
    }

    [Fact]
    public async Task A_production_rollback_asks_for_yes_and_an_admin_and_says_the_database_stays()
    {
        var unconfirmed = CliSandbox.OneLineError(await RunAs("admin", "deployments", "rollback", _main[0].DeploymentId.ToString()));
        Assert.Contains("--yes", unconfirmed);
        Assert.Contains("The database is not rolled back", unconfirmed);
        Assert.Contains("needs the admin role", CliSandbox.OneLineError(
            await RunAs("developer", "deployments", "rollback", _main[0].DeploymentId.ToString(), "--yes")));
        Assert.Contains("has no pre-deploy backup", CliSandbox.OneLineError(
            await RunAs("admin", "deployments", "rollback", _main[0].DeploymentId.ToString(), "--yes", "--restore-pre-deploy-backup")));
        Assert.Equal("live", await DeploymentRows.StatusAsync(_world.Owner, _main[1].DeploymentId));

        var done = Ok(await RunAs("admin", "deployments", "rollback", _main[0].DeploymentId.ToString(), "--yes")).Trim();
        Assert.Matches($"^Rollback [0-9a-f-]{{36}}: main runs build {_main[0].BuildId} again; its database is not rolled back.$", done);
        Assert.Equal("rolled_back", await DeploymentRows.StatusAsync(_world.Owner, _main[1].DeploymentId));
    }

    [Fact]
    public async Task The_plan_is_a_dry_run_that_queues_nothing()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var builds = await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds");
        var plan = Ok(await RunAs("developer", "deployments", "plan", "app", "main"));
        Assert.Contains("app/main (production) at ", plan);
        Assert.Contains("  install sale_extra 19.0.1.1.0: new", plan); // the releases made here recorded no modules
        Assert.Equal(plan, Ok(await RunAs("developer", "builds", "trigger", "--project", "app", "--branch", "main", "--dry-run")));
        Assert.Equal(builds, await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds"));
        Assert.Contains("needs the developer role", CliSandbox.OneLineError(await RunAs("viewer", "deployments", "plan", "app", "main")));
        Assert.Contains("--dry-run", CliSandbox.OneLineError(
            await RunAs("developer", "builds", "trigger", "--project", "app", "--branch", "main", "--dry-run", "--commit", "abc")));
    }
}
