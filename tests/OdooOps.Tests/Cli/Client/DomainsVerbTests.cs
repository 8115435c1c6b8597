using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Instances.Domains;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances.Proxy;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops domains list|add|remove|check` (the real binary) against a real serve: a developer adds a name, checks it
/// (the test's DNS points it at 127.0.0.1, this server's address), lists it as verified and removes it, each audited;
/// a name another organisation uses exits non-zero with one line.
/// </summary>
public sealed class DomainsVerbTests(PostgresCluster cluster) : IAsyncLifetime
{
    ProxyWorld _world = null!;
    readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() =>
        _world = await ProxyWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_PUBLIC_ADDRESSES"] = "127.0.0.1" },
            b => b.Services.AddSingleton(new DomainChecker((name, _) => Task.FromResult<IPAddress[]>(
                name == "shop.tenant-a.test" ? [IPAddress.Loopback] : [IPAddress.Parse("203.0.113.9")]), [IPAddress.Loopback])));

    public async ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        await _world.DisposeAsync();
    }

    async Task<Dictionary<string, string>> AsAsync(Guid user) => new()
    {
        ["ODOOOPS_URL"] = _world.Server.Url, ["ODOOOPS_TOKEN"] = await Accounts.CreateTokenAsync(_world.Server.Owner, user), ["NO_COLOR"] = "1",
    };

    [Fact]
    public async Task A_developer_adds_checks_lists_and_removes_a_domain()
    {
        var env = await AsAsync(_world.Tenants.A.DeveloperId);
        string[] where = ["--project", "erp", "--branch", "main"];

        var added = await _sandbox.RunAsync(["domains", "add", "Shop.Tenant-A.test", .. where], env);
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.StartsWith("Added shop.tenant-a.test to main (erp)", added.Output.Trim());

        var other = await _sandbox.RunAsync(["domains", "add", "other.tenant-a.test", .. where], env);
        Assert.Equal(0, other.ExitCode);
        var unverified = await _sandbox.RunAsync(["domains", "check", "other.tenant-a.test", .. where], env);
        Assert.Equal(3, unverified.ExitCode);
        Assert.Contains("resolves to 203.0.113.9, not this server (127.0.0.1)", unverified.Output);

        var check = await _sandbox.RunAsync(["domains", "check", "shop.tenant-a.test", .. where, "--json"], env);
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        Assert.True(JsonDocument.Parse(check.Output).RootElement.GetProperty("verified").GetBoolean());

        var list = await _sandbox.RunAsync(["domains", "list", .. where], env);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches(@"shop\.tenant-a\.test\s+yes", list.Output);
        Assert.Matches(@"other\.tenant-a\.test\s+no .*resolves to 203\.0\.113\.9", list.Output);
        var json = JsonDocument.Parse((await _sandbox.RunAsync(["domains", "list", .. where, "--json"], env)).Output).RootElement;
        Assert.Equal(3, json.GetProperty("domains").GetArrayLength()); // with TwoTenants' erp-a.example.com

        var removed = await _sandbox.RunAsync(["domains", "remove", "shop.tenant-a.test", .. where], env);
        Assert.Equal((0, "Removed shop.tenant-a.test from main (erp)."), (removed.ExitCode, removed.Output.Trim()));

        await using var conn = await Accounts.OpenAsync(_world.Server.Owner);
        Assert.Equal(["domain.add", "domain.add", "domain.check", "domain.check", "domain.remove"],
            (await conn.QueryAsync<string>("select action from ops.audit_log where action like 'domain.%' order by action")).AsList());
    }

    [Fact]
    public async Task A_name_in_use_or_a_bad_name_exits_non_zero_with_one_line()
    {
        var env = await AsAsync(_world.Tenants.B.OwnerId);
        var taken = await _sandbox.RunAsync(["domains", "add", "erp-a.example.com", "--project", "erp", "--branch", "main"], env);
        Assert.NotEqual(0, taken.ExitCode);
        Assert.Contains("erp-a.example.com is already used", Assert.Single(taken.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        var bad = await _sandbox.RunAsync(["domains", "add", "not a name", "--project", "erp", "--branch", "main"], env);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("name", Assert.Single(bad.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
