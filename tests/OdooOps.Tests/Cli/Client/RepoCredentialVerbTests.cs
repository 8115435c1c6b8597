using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Projects;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops projects credential`: a token from stdin or a key from a file, never from a flag, never printed.</summary>
public sealed class RepoCredentialVerbTests(PostgresCluster cluster) : IAsyncLifetime
{
    const string Token = "glpat-CliS3cretToken0123456789";
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

    async Task<string?> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<string?>(
            "select kind || ':' || coalesce(username, '') from ops_private.repo_credentials where project_id = @ProjectId", new { _world.ProjectId });
    }

    [Fact]
    public async Task A_token_from_stdin_and_a_key_from_a_file_are_set_shown_and_cleared_without_printing_them()
    {
        var env = await AsOwnerAsync();
        var none = await _sandbox.RunAsync(["projects", "credential", "app"], env);
        Assert.Equal((0, "app: no repository credential; builds fetch without one."), (none.ExitCode, none.Output.Trim()));

        var token = await _sandbox.RunAsync(["projects", "credential", "app", "--token-stdin", "--username", "deployer"], env, Token + "\n");
        Assert.Equal(0, token.ExitCode);
        Assert.StartsWith("app: builds fetch with a token for deployer, set", token.Output.Trim());
        Assert.DoesNotContain("S3cret", token.Output + token.Error);
        Assert.Equal("token:deployer", await StoredAsync());

        var keyFile = Path.Combine(_sandbox.Home, "deploy_key");
        await File.WriteAllTextAsync(keyFile, RepoCredentialApiTests.OpenSshKey("none"));
        var key = await _sandbox.RunAsync(["projects", "credential", "app", "--ssh-key-file", keyFile], env);
        Assert.Equal(0, key.ExitCode);
        Assert.StartsWith("app: builds fetch with an SSH key, set", key.Output.Trim());
        Assert.Equal("ssh_key:", await StoredAsync());

        var cleared = await _sandbox.RunAsync(["projects", "credential", "app", "--clear"], env);
        Assert.Equal((0, "app: no repository credential; builds fetch without one."), (cleared.ExitCode, cleared.Output.Trim()));
        Assert.Null(await StoredAsync());
    }

    [Theory]
    [InlineData("--token-stdin|--clear", "exclude each other")]
    [InlineData("--username|u", "--username goes with --token-stdin")]
    [InlineData("--token-stdin", "secret")] // a token with a space, refused by the server naming the field
    public async Task Bad_use_exits_non_zero_with_one_line_and_changes_nothing(string arguments, string message)
    {
        var result = await _sandbox.RunAsync(["projects", "credential", "app", .. arguments.Split('|')], await AsOwnerAsync(), "two words\n");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("two words", result.Error);
        Assert.Null(await StoredAsync());
    }
}
