using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Admin;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// The instance settings verbs, the real binary against a live server: `projects instances`, `branches instance`,
/// `branches move-host` and `runners hosting` show and change through the API (audited there), and refusals — a role too
/// low, a value out of range, an unfit runner, flags that exclude each other — are one line with a non-zero exit and
/// change nothing.
/// </summary>
public sealed class InstanceSettingsVerbTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> RunAs(string actor, params string[] args) =>
        _sandbox.RunAsync(args, env: new Dictionary<string, string> { ["ODOOOPS_URL"] = world.Server.Url, ["ODOOOPS_TOKEN"] = world.Tokens[actor], ["NO_COLOR"] = "1" });

    static string OneLineError(CliRunner.Result r)
    {
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Error.Trim().Split('\n');
        Assert.True(lines.Length == 1, r.Error);
        Assert.StartsWith("error: ", lines[0]);
        return lines[0];
    }

    static string Ok(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Error);
        return r.Output.Trim();
    }

    Task<string> Stored(string sql, object? args = null) => world.ScalarAsync<string>(sql, args);

    [Fact]
    public async Task Projects_instances_shows_and_sets_the_development_lifetime_and_cap()
    {
        Assert.Equal("shop: development instances live 3 days, at most 5 at once.", Ok(await RunAs("viewer", "projects", "instances", "shop")));
        Assert.Equal("shop: development instances live 12 hours, at most 5 at once (a new lifetime applies to instances started from now on).",
            Ok(await RunAs("admin", "projects", "instances", "shop", "--ttl-hours", "12")));
        using (var json = JsonDocument.Parse(Ok(await RunAs("admin", "projects", "instances", "shop", "--max-dev", "3", "--json"))))
            Assert.Equal((12, 3), (json.RootElement.GetProperty("dev_ttl_hours").GetInt32(), json.RootElement.GetProperty("max_dev_instances").GetInt32()));

        Assert.Contains("max_dev_instances must be between 0 and 100", OneLineError(await RunAs("admin", "projects", "instances", "shop", "--max-dev", "101")));
        Assert.Contains("admin", OneLineError(await RunAs("developer", "projects", "instances", "shop", "--max-dev", "9")));
        Assert.Equal("12:00:00/3", await Stored("select dev_instance_ttl || '/' || max_dev_instances from ops.projects where id = @ProjectA", new { world.ProjectA }));
        Assert.Equal("2", await Stored("select count(*)::text from ops.audit_log where action = 'project.instance_settings' and project_id = @ProjectA", new { world.ProjectA }));
    }

    [Fact]
    public async Task Branches_instance_shows_and_sizes_a_branch_and_production_needs_an_admin()
    {
        Assert.Equal("feature-x (development): workers 0, cron threads 1, memory 2048 MB, CPUs 1; host: not pinned.",
            Ok(await RunAs("viewer", "branches", "instance", "shop", "feature-x")));
        Assert.Equal("feature-x (development): workers 3, cron threads 1, memory 4096 MB, CPUs 1.5; host: not pinned. Applies at the instance's next start or restart.",
            Ok(await RunAs("developer", "branches", "instance", "shop", "feature-x", "--workers", "3", "--memory-mb", "4096", "--cpus", "1.5")));

        Assert.Contains("needs the admin role or higher; you are developer", OneLineError(await RunAs("developer", "branches", "instance", "shop", "main", "--workers", "8")));
        Assert.Contains("cpus must be between 0.1 and 256", OneLineError(await RunAs("admin", "branches", "instance", "shop", "main", "--cpus", "0.01")));
        Assert.Contains("No branch 'nope' in shop", OneLineError(await RunAs("admin", "branches", "instance", "shop", "nope")));
        Assert.Equal("0/2048", await Stored("select instance_workers || '/' || instance_memory_mb from ops.branches where project_id = @ProjectA and name = 'main'", new { world.ProjectA }));
        Assert.Contains("workers 8,", Ok(await RunAs("admin", "branches", "instance", "shop", "main", "--workers", "8")));
    }

    [Fact]
    public async Task Branches_move_host_pins_staging_to_a_runner_and_says_the_instance_stays()
    {
        var target = world.Unique("cli-host");
        var runner = await world.InsertRunnerAsync(world.OrgA, target, DateTime.UtcNow);
        var builder = world.Unique("cli-builder");
        await world.ExecuteAsync("update ops.runners set serves_instances = false where id = @Id", await world.InsertRunnerAsync(world.OrgA, builder, DateTime.UtcNow));

        Assert.Contains("does not serve instances", OneLineError(await RunAs("admin", "branches", "move-host", "shop", "staging", builder)));
        Assert.Contains("admin role", OneLineError(await RunAs("developer", "branches", "move-host", "shop", "staging", target)));
        Assert.Contains("development instances go to any runner", OneLineError(await RunAs("admin", "branches", "move-host", "shop", "feature-x", target)));

        var moved = Ok(await RunAs("admin", "branches", "move-host", "shop", "staging", target));
        Assert.Equal($"staging is pinned to {target}. The next deploy of staging builds on {target}; the current instance is not moved: its filestore and database must be moved with a backup and restore.", moved);
        Assert.Equal(runner.Id.ToString(), await Stored("select runner_id::text from ops.branches where project_id = @ProjectA and name = 'staging'", new { world.ProjectA }));
        Assert.Equal($"staging is already pinned to {target}.", Ok(await RunAs("owner", "branches", "move-host", "shop", "staging", runner.Id.ToString())));
        Assert.Contains($"host: {target}", Ok(await RunAs("viewer", "branches", "instance", "shop", "staging")));
    }

    [Fact]
    public async Task Runners_hosting_shows_and_switches_a_runner_and_list_shows_it()
    {
        var name = world.Unique("cli-hosting");
        var runner = await world.InsertRunnerAsync(world.OrgA, name, DateTime.UtcNow);

        Assert.Equal($"{name}: serves instances, 0 of 20 placed; reached at 127.0.0.1; never synced.", Ok(await RunAs("viewer", "runners", "hosting", name)));
        Assert.Equal($"{name}: builds only (no new instance goes there); 0 placed; never synced.", Ok(await RunAs("admin", "runners", "hosting", name, "--off", "--capacity", "2")));
        Assert.Equal("false/2", await Stored("select serves_instances || '/' || instance_capacity from ops.runners where id = @Id", runner));
        Assert.Contains("builds only", (await RunAs("viewer", "runners", "list")).Output.Split('\n').Single(l => l.Contains(name)));
        Assert.Contains("serves instances, 0 of 2", Ok(await RunAs("owner", "runners", "hosting", runner.Id.ToString(), "--on")));

        Assert.Contains("--on and --off exclude each other", OneLineError(await RunAs("admin", "runners", "hosting", name, "--on", "--off")));
        Assert.Contains("instance_capacity must be between 0 and 1000", OneLineError(await RunAs("admin", "runners", "hosting", name, "--capacity", "5000")));
        Assert.Contains("Forbidden", OneLineError(await RunAs("developer", "runners", "hosting", name, "--off")));
        Assert.Equal("true/2", await Stored("select serves_instances || '/' || instance_capacity from ops.runners where id = @Id", runner));
    }
}
