using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Instances.Domains;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances.Proxy;

namespace OdooOps.Tests.Instances.Domains;

/// <summary>
/// A branch's custom domains through the API, on a real serve with two tenants: add, the name's rules, one name for one
/// branch across every organisation, roles, the check (with a DNS of the test's own, so names resolve where the test
/// says), removal, the audit rows — and a verified name reaching the branch's instance through the proxy.
/// </summary>
public sealed class DomainsApiTests(PostgresCluster cluster)
{
    /// <summary>The test's DNS: names → addresses, or the error a resolver would raise.</summary>
    static readonly Dictionary<string, Func<IPAddress[]>> Dns = new()
    {
        ["shop.tenant-a.test"] = () => [IPAddress.Loopback],
        ["elsewhere.tenant-a.test"] = () => [IPAddress.Parse("203.0.113.9")],
        ["half.tenant-a.test"] = () => [IPAddress.Loopback, IPAddress.Parse("203.0.113.9")],
        ["flaky.tenant-a.test"] = () => throw new SocketException((int)SocketError.TryAgain),
    };

    static Task<ProxyWorld> StartAsync(PostgresCluster cluster, Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["OPS_PUBLIC_ADDRESSES"] = "127.0.0.1";
        return ProxyWorld.StartAsync(cluster, settings, b => b.Services.AddSingleton(new DomainChecker(
            (name, _) => Task.FromResult(Dns.TryGetValue(name, out var answer) ? answer() : throw new SocketException((int)SocketError.HostNotFound)),
            [IPAddress.Loopback])));
    }

    static async Task<HttpClient> ClientAsync(ProxyWorld w, Guid userId) =>
        new HttpClient { BaseAddress = w.BaseUri }.WithToken(await Accounts.CreateTokenAsync(w.Server.Owner, userId));

    static string Domains(Tenant t, Guid branchId) => $"/api/ops/projects/{t.ProjectId}/branches/{branchId}/domains";

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    static async Task<List<string>> AuditAsync(ProxyWorld w, string action)
    {
        await using var conn = await Accounts.OpenAsync(w.Server.Owner);
        return (await conn.QueryAsync<string>("select coalesce(after, before)::text from ops.audit_log where action = @action order by id", new { action })).AsList();
    }

    [Fact]
    public async Task A_developer_adds_a_domain_checks_it_and_the_name_then_reaches_the_branchs_instance()
    {
        await using var w = await StartAsync(cluster);
        var a = w.Tenants.A;
        using var dev = await ClientAsync(w, a.DeveloperId);

        var added = await JsonAsync(await dev.PostAsJsonAsync(Domains(a, a.ProductionBranchId), new { name = " Shop.Tenant-A.test. " }), HttpStatusCode.Created);
        Assert.Equal("shop.tenant-a.test", added.GetProperty("name").GetString());
        Assert.False(added.GetProperty("verified").GetBoolean());
        var id = added.GetProperty("id").GetGuid();
        Assert.Single(await AuditAsync(w, "domain.add"), row => row.Contains("shop.tenant-a.test"));
        Assert.Equal(HttpStatusCode.NotFound, (await w.GetAsync("shop.tenant-a.test")).StatusCode); // not verified: not routed

        using var viewer = await ClientAsync(w, a.ViewerId);
        var list = await JsonAsync(await viewer.GetAsync(Domains(a, a.ProductionBranchId)), HttpStatusCode.OK);
        Assert.Contains(list.GetProperty("domains").EnumerateArray(), d => d.GetProperty("name").GetString() == "shop.tenant-a.test");

        var checkedOk = await JsonAsync(await dev.PostAsync($"{Domains(a, a.ProductionBranchId)}/{id}/check", null), HttpStatusCode.OK);
        Assert.True(checkedOk.GetProperty("verified").GetBoolean());
        Assert.Equal(JsonValueKind.Null, checkedOk.GetProperty("check_error").ValueKind);
        Assert.Single(await AuditAsync(w, "domain.check"));
        await InstanceProxyTests.WaitForAsync(async () => (await w.GetAsync("shop.tenant-a.test")).StatusCode == HttpStatusCode.OK, "the verified name routed");
        Assert.Equal("a", (await w.EchoAsync("shop.tenant-a.test")).GetProperty("upstream").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await dev.DeleteAsync($"{Domains(a, a.ProductionBranchId)}/{id}")).StatusCode);
        Assert.Single(await AuditAsync(w, "domain.remove"));
        Assert.Equal(HttpStatusCode.NotFound, (await dev.DeleteAsync($"{Domains(a, a.ProductionBranchId)}/{id}")).StatusCode);
        await InstanceProxyTests.WaitForAsync(async () => (await w.GetAsync("shop.tenant-a.test")).StatusCode != HttpStatusCode.OK, "the removed name no longer routed");
    }

    [Theory]
    [InlineData("elsewhere.tenant-a.test", false, "resolves to 203.0.113.9, not this server (127.0.0.1)")]
    [InlineData("half.tenant-a.test", false, "resolves to 203.0.113.9, not this server (127.0.0.1)")]
    [InlineData("gone.tenant-a.test", false, "does not resolve")]
    public async Task A_name_that_does_not_point_here_is_not_verified_and_says_why(string name, bool verified, string reason)
    {
        await using var w = await StartAsync(cluster);
        var a = w.Tenants.A;
        using var dev = await ClientAsync(w, a.DeveloperId);
        var id = (await JsonAsync(await dev.PostAsJsonAsync(Domains(a, a.StagingBranchId), new { name }), HttpStatusCode.Created)).GetProperty("id").GetGuid();

        var result = await JsonAsync(await dev.PostAsync($"{Domains(a, a.StagingBranchId)}/{id}/check", null), HttpStatusCode.OK);
        Assert.Equal(verified, result.GetProperty("verified").GetBoolean());
        Assert.Equal(reason, result.GetProperty("check_error").GetString());
        Assert.NotEqual(JsonValueKind.Null, result.GetProperty("checked_at").ValueKind);
    }

    [Fact]
    public async Task A_failed_look_up_does_not_take_a_verified_domain_offline()
    {
        await using var w = await StartAsync(cluster);
        var a = w.Tenants.A;
        using var dev = await ClientAsync(w, a.DeveloperId);
        var id = (await JsonAsync(await dev.PostAsJsonAsync(Domains(a, a.ProductionBranchId), new { name = "flaky.tenant-a.test" }), HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        await w.SqlAsync("update ops.instance_domains set verified_at = now() where id = @id", new { id });

        var result = await JsonAsync(await dev.PostAsync($"{Domains(a, a.ProductionBranchId)}/{id}/check", null), HttpStatusCode.OK);
        Assert.True(result.GetProperty("verified").GetBoolean());
        Assert.StartsWith("could not be looked up", result.GetProperty("check_error").GetString());
    }

    [Fact]
    public async Task A_name_any_organisation_uses_is_409_without_saying_whose()
    {
        await using var w = await StartAsync(cluster);
        var (a, b) = (w.Tenants.A, w.Tenants.B);
        using var ownerB = await ClientAsync(w, b.OwnerId);

        // erp-a.example.com is tenant A's (TwoTenants); B asks for it, in capitals and with the final dot.
        var response = await ownerB.PostAsJsonAsync(Domains(b, b.ProductionBranchId), new { name = "ERP-A.example.com." });
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("erp-a.example.com is already used", text);
        Assert.DoesNotContain("tenant-a", text);
        Assert.DoesNotContain(a.ProjectId.ToString(), text);
        Assert.DoesNotContain(a.OrgId.ToString(), text);
        Assert.Empty(await AuditAsync(w, "domain.add"));

        // Within one organisation too: one name, one branch.
        using var ownerA = await ClientAsync(w, a.OwnerId);
        Assert.Equal(HttpStatusCode.Conflict, (await ownerA.PostAsJsonAsync(Domains(a, a.StagingBranchId), new { name = "erp-a.example.com" })).StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a domain")]
    [InlineData("intranet")]
    [InlineData("203.0.113.9")]
    [InlineData("-shop.example.com")]
    [InlineData("shop..example.com")]
    [InlineData("shop_1.example.com")]
    [InlineData("shop.localhost")]
    [InlineData("main.erp-b.apps.example.test")]
    [InlineData("apps.example.test")]
    [InlineData("ops.example.test")]
    [InlineData("evil.ops.example.test")]
    [InlineData("example.test")]
    public async Task A_name_that_is_not_a_domain_of_the_tenants_own_is_400_naming_name(string name)
    {
        await using var w = await StartAsync(cluster, new()
        {
            ["OPS_INSTANCES_DOMAIN"] = "apps.example.test", ["OPS_PUBLIC_URL"] = "https://ops.example.test",
        });
        var a = w.Tenants.A;
        using var dev = await ClientAsync(w, a.DeveloperId);
        var problem = await JsonAsync(await dev.PostAsJsonAsync(Domains(a, a.ProductionBranchId), new { name }), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _), problem.ToString());
        await using var conn = await Accounts.OpenAsync(w.Server.Owner);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select count(*) from ops.instance_domains")); // the two tenants' own
    }

    [Fact]
    public async Task A_name_longer_than_dns_allows_is_400_naming_name()
    {
        await using var w = await StartAsync(cluster);
        var a = w.Tenants.A;
        using var dev = await ClientAsync(w, a.DeveloperId);
        var name = string.Join(".", Enumerable.Repeat(new string('a', 60), 5)); // 304 characters
        var problem = await JsonAsync(await dev.PostAsJsonAsync(Domains(a, a.ProductionBranchId), new { name }), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Testers_manage_staging_and_development_domains_only_and_viewers_none()
    {
        await using var w = await StartAsync(cluster);
        var a = w.Tenants.A;
        using var tester = await ClientAsync(w, a.TesterId);
        var refused = await tester.PostAsJsonAsync(Domains(a, a.ProductionBranchId), new { name = "prod.tenant-a.test" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("needs the developer role", await refused.Content.ReadAsStringAsync());
        var staging = await JsonAsync(await tester.PostAsJsonAsync(Domains(a, a.StagingBranchId), new { name = "staging.tenant-a.test" }), HttpStatusCode.Created);
        var id = staging.GetProperty("id").GetGuid();

        // The production branch's domain (TwoTenants' erp-a.example.com): neither checked nor removed by a tester.
        await using var conn = await Accounts.OpenAsync(w.Server.Owner);
        var prodDomain = await conn.ExecuteScalarAsync<Guid>("select id from ops.instance_domains where branch_id = @b", new { b = a.ProductionBranchId });
        Assert.Equal(HttpStatusCode.Forbidden, (await tester.PostAsync($"{Domains(a, a.ProductionBranchId)}/{prodDomain}/check", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tester.DeleteAsync($"{Domains(a, a.ProductionBranchId)}/{prodDomain}")).StatusCode);

        using var viewer = await ClientAsync(w, a.ViewerId);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync(Domains(a, a.DevBranchId), new { name = "dev.tenant-a.test" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"{Domains(a, a.StagingBranchId)}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"{Domains(a, a.StagingBranchId)}/{id}/check", null)).StatusCode);

        // The other tenant's branches and domains do not exist for A's owner.
        var b = w.Tenants.B;
        using var ownerA = await ClientAsync(w, a.OwnerId);
        var bDomain = await conn.ExecuteScalarAsync<Guid>("select id from ops.instance_domains where branch_id = @b", new { b = b.ProductionBranchId });
        Assert.Equal(HttpStatusCode.NotFound, (await ownerA.GetAsync(Domains(b, b.ProductionBranchId))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ownerA.PostAsJsonAsync(Domains(b, b.ProductionBranchId), new { name = "x.tenant-a.test" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ownerA.DeleteAsync($"{Domains(b, b.ProductionBranchId)}/{bDomain}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ownerA.DeleteAsync($"{Domains(a, a.ProductionBranchId)}/{bDomain}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ownerA.PostAsync($"{Domains(a, a.ProductionBranchId)}/{bDomain}/check", null)).StatusCode);
        Assert.Equal(3, await conn.ExecuteScalarAsync<int>("select count(*) from ops.instance_domains"));
    }
}
