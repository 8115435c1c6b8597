using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops env list|set|unset`: a plain value from the command line, a secret's only from stdin (refused as an
/// argument, never printed, never in the listing), a change naming the instance to restart and the command that does it.
/// </summary>
public sealed class EnvVerbTests(PostgresCluster cluster) : IAsyncLifetime
{
    const string Secret = "pa55-Cl1-Secret-Value";
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

    async Task<string> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<string>(
            "select coalesce(string_agg(concat_ws(':', stage, name, coalesce(value, '-'), is_secret), ',' order by stage, name), '') from ops.env_vars where project_id = @ProjectId",
            new { _world.ProjectId }) ?? "";
    }

    [Fact]
    public async Task Plain_values_from_the_command_line_secrets_from_stdin_and_a_restart_hint_after_a_change()
    {
        var env = await AsOwnerAsync();
        var empty = await _sandbox.RunAsync(["env", "list", "-p", "app"], env);
        Assert.Equal(0, empty.ExitCode);
        Assert.Contains("No variables: add one with odooops env set", empty.Error);

        var instance = await InstanceRows.InsertAsync(_world.Owner, _world.ProjectId, "staging");
        var plain = await _sandbox.RunAsync(["env", "set", "-p", "app", "-s", "staging", "SHOP_MODE", "test"], env);
        Assert.Equal(0, plain.ExitCode);
        Assert.Contains("app staging: SHOP_MODE set.", plain.Output);
        Assert.Contains($"staging (staging, running): odooops instances restart {instance}", plain.Output);

        var secret = await _sandbox.RunAsync(["env", "set", "-p", "app", "-s", "production", "SMTP_PASSWORD", "--secret"], env, Secret + "\n");
        Assert.Equal(0, secret.ExitCode);
        Assert.Contains("app production: SMTP_PASSWORD set (secret).", secret.Output);
        Assert.Equal("production:SMTP_PASSWORD:-:t,staging:SHOP_MODE:test:f", await StoredAsync()); // sealed: no plain value stored

        var listed = await _sandbox.RunAsync(["env", "list", "-p", "app"], env);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("(secret, set)", listed.Output);
        Assert.Contains("test", listed.Output);
        var json = await _sandbox.RunAsync(["env", "list", "-p", "app", "--json"], env);
        foreach (var output in new[] { plain, secret, listed, json }) Assert.DoesNotContain("Cl1-Secret", output.Output + output.Error);

        var unset = await _sandbox.RunAsync(["env", "unset", "-p", "app", "-s", "staging", "SHOP_MODE"], env);
        Assert.Equal((0, true), (unset.ExitCode, unset.Output.Contains("app staging: SHOP_MODE removed.")));
        Assert.Equal("production:SMTP_PASSWORD:-:t", await StoredAsync());
        var again = await _sandbox.RunAsync(["env", "unset", "-p", "app", "-s", "staging", "SHOP_MODE"], env);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("No variable SHOP_MODE on staging of app", again.Error);
    }

    [Theory]
    [InlineData("SMTP_PASSWORD|hunter2-argv|--secret", "never given on the command line")]
    [InlineData("PGPASSWORD|x", "set by the platform itself")]
    [InlineData("SMTP_PASSWORD|--secret", "found nothing")]
    public async Task Bad_use_exits_non_zero_with_one_line_and_changes_nothing(string arguments, string message)
    {
        var result = await _sandbox.RunAsync(["env", "set", "-p", "app", "-s", "staging", .. arguments.Split('|')], await AsOwnerAsync(), "");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("hunter2", result.Output + result.Error);
        Assert.Equal("", await StoredAsync());
    }
}
