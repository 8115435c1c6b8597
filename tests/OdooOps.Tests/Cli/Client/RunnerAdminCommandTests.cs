using System.Text.Json;
using System.Text.RegularExpressions;
using OdooOps.Tests.Cli;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Admin;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops runners token|tokens|list|disable|enable|revoke-token`: the real binary against a live server.</summary>
public sealed partial class RunnerAdminCommandTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> RunAs(string actor, params string[] args) =>
        _sandbox.RunAsync(["runners", .. args], env: new Dictionary<string, string> { ["ODOOOPS_URL"] = world.Server.Url, ["ODOOOPS_TOKEN"] = world.Tokens[actor] });

    [GeneratedRegex("^oo_reg_[0-9A-Za-z]{43}$")]
    private static partial Regex RegistrationToken();

    [Fact]
    public async Task An_admin_makes_a_token_a_runner_registers_with_it_and_list_shows_the_runner()
    {
        var made = await RunAs("admin", "token", "--org", "acme", "--expires-in-hours", "3");

        Assert.True(made.ExitCode == 0, made.Error);
        var token = made.Output.Trim();
        Assert.Matches(RegistrationToken(), token); // alone on stdout
        Assert.Contains($"odooops runner --url {world.Server.Url} --token {token}", made.Error);
        Assert.Contains("shown once", made.Error);
        var expires = await world.ScalarAsync<DateTime>("select expires_at from ops.runner_registration_tokens order by created_at desc limit 1");
        Assert.InRange(expires.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromMinutes(178), TimeSpan.FromMinutes(181));

        var name = world.Unique("cli-runner");
        var registered = await world.RegisterAsync(token, name, 3, "odoo19");

        var list = await RunAs("viewer", "list"); // their only organisation
        Assert.True(list.ExitCode == 0, list.Error);
        var row = list.Output.Split('\n').Single(l => l.Contains(name));
        Assert.Contains(registered.RunnerId.ToString(), row);
        Assert.Contains("online", row);
        Assert.Contains("0/3", row);
        Assert.Contains("odoo19", row);

        var json = await RunAs("viewer", "list", "--org", world.OrgA.ToString(), "--json");
        using var doc = JsonDocument.Parse(json.Output);
        var runner = doc.RootElement.GetProperty("runners").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        Assert.True(runner.GetProperty("online").GetBoolean());

        var tokens = await RunAs("admin", "tokens", "--org", "acme");
        Assert.True(tokens.ExitCode == 0, tokens.Error);
        Assert.DoesNotContain(token, tokens.Output);
        Assert.Contains("used", tokens.Output);
    }

    [Fact]
    public async Task Disable_and_enable_by_name_change_the_runner()
    {
        var name = world.Unique("cli-disable");
        var runner = await world.InsertRunnerAsync(world.OrgA, name, DateTime.UtcNow);

        var disabled = await RunAs("admin", "disable", name, "--org", "acme");

        Assert.True(disabled.ExitCode == 0, disabled.Error);
        Assert.Contains($"Runner {name} ({runner.Id}) is disabled", disabled.Output);
        Assert.NotNull(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", runner));
        Assert.Contains("disabled", (await RunAs("viewer", "list", "--org", "acme")).Output.Split('\n').Single(l => l.Contains(name)));

        var enabled = await RunAs("admin", "enable", runner.Id.ToString(), "--org", "acme");

        Assert.True(enabled.ExitCode == 0, enabled.Error);
        Assert.Contains("is enabled", enabled.Output);
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", runner));
    }

    [Fact]
    public async Task Revoke_token_stops_a_token()
    {
        var created = await world.CreateTokenAsync();

        var revoked = await RunAs("admin", "revoke-token", created.Id.ToString(), "--org", "acme");

        Assert.True(revoked.ExitCode == 0, revoked.Error);
        Assert.NotNull(await world.ScalarAsync<DateTime?>("select revoked_at from ops.runner_registration_tokens where id = @Id", created));
        Assert.Contains("No registration token", CliSandbox.OneLineError(await RunAs("admin", "revoke-token", Guid.NewGuid().ToString(), "--org", "acme")));
    }

    [Fact]
    public async Task Refusals_are_one_line_with_a_non_zero_exit()
    {
        var count = await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens");

        Assert.Contains("admin", CliSandbox.OneLineError(await RunAs("viewer", "token", "--org", "acme")));
        Assert.Contains("--expires-in-hours must be between 1 and 720", CliSandbox.OneLineError(await RunAs("admin", "token", "--org", "acme", "--expires-in-hours", "0")));
        Assert.Contains("No organisation 'globex'", CliSandbox.OneLineError(await RunAs("admin", "token", "--org", "globex")));
        Assert.Contains("No runner named 'nope'", CliSandbox.OneLineError(await RunAs("admin", "disable", "nope", "--org", "acme")));
        var guarded = await world.InsertRunnerAsync(world.OrgA, world.Unique("cli-guarded"), DateTime.UtcNow);
        Assert.Contains("you are developer", CliSandbox.OneLineError(await RunAs("developer", "disable", guarded.Id.ToString(), "--org", "acme")));
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", guarded));

        Assert.Equal(count, await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens"));
    }
}
