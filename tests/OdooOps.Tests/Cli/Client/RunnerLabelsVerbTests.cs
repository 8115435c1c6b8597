using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops projects labels`: show, set and clear the runner labels a project's builds require.</summary>
public sealed class RunnerLabelsVerbTests(PostgresCluster cluster) : IAsyncLifetime
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

    async Task<string[]> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<string[]>("select runner_labels from ops.projects where id = @ProjectId", new { _world.ProjectId }) ?? [];
    }

    [Fact]
    public async Task Labels_are_shown_set_and_cleared()
    {
        var env = await AsOwnerAsync();
        var shown = await _sandbox.RunAsync(["projects", "labels", "app"], env);
        Assert.Equal((0, "app: any runner may take its builds."), (shown.ExitCode, shown.Output.Trim()));

        var set = await _sandbox.RunAsync(["projects", "labels", "app", "--set", "odoo-19, big"], env);
        Assert.Equal((0, "app: builds go to runners labelled big, odoo-19."), (set.ExitCode, set.Output.Trim()));
        Assert.Equal(["big", "odoo-19"], await StoredAsync());

        var cleared = await _sandbox.RunAsync(["projects", "labels", "app", "--clear"], env);
        Assert.Equal(0, cleared.ExitCode);
        Assert.Empty(await StoredAsync());
    }

    [Theory]
    [InlineData("--set|Not A Label", "labels")]
    [InlineData("--set|a|--clear", "--set and --clear")]
    public async Task Bad_labels_exit_non_zero_with_one_line_and_change_nothing(string arguments, string message)
    {
        var result = await _sandbox.RunAsync(["projects", "labels", "app", .. arguments.Split('|')], await AsOwnerAsync());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Empty(await StoredAsync());
    }
}
