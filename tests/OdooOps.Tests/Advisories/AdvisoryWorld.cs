using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Advisories;
using OdooOps.Database;
using OdooOps.Server;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>Stands in for this server's own metrics: tests set what the next scan measures.</summary>
public sealed class FakeHealthProbe : IServerHealthProbe
{
    public static readonly ServerHealth Quiet = new(0, 0, null, null, null, 0, 0, null, []);

    public ServerHealth Next { get; set; } = Quiet;

    public ServerHealth Measure() => Next;
}

/// <summary>
/// The real server (ServerApp) on a TestServer and a database of its own, built here rather than through
/// OdooOpsFactory so that a test class can pass OPS_ADVISORY_* settings and replace the server-health probe. Org A
/// has a user in each role; org B an owner; "sysadmin" is a system administrator in no org. Tokens are personal
/// access tokens (write scope; "viewer-read" has read scope).
/// </summary>
public class AdvisoryWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public static readonly string[] Roles = ["owner", "admin", "developer", "tester", "viewer"];

    WebApplication _app = null!;
    OpsDatabase _database = null!;
    int _counter;

    public FakeHealthProbe Probe { get; } = new();
    public NpgsqlConnectionStringBuilder Owner { get; private set; } = null!;
    public Guid OrgA { get; private set; }
    public Guid OrgB { get; private set; }
    public Dictionary<string, string> Tokens { get; } = [];

    /// <summary>Settings a subclass passes to the server (the thresholds of OPS_ADVISORY_*).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public async ValueTask InitializeAsync()
    {
        Owner = await cluster.CreateDatabaseAsync("advisories");
        _database = OpsDatabase.Create(await LoginRoles.EnsureAsync(Owner));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(Settings)
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:OdooOps.Advisories"] = "Error", // the unavailable-rule warnings are expected in some tests
        }).Build();
        _app = ServerApp.Build("http://localhost", config, _database, TestHosts.Secrets, b =>
        {
            b.WebHost.UseTestServer();
            b.Services.AddSingleton<IServerHealthProbe>(Probe);
        });
        await _app.StartAsync();

        OrgA = await Accounts.CreateOrgAsync(Owner, "adv-a");
        OrgB = await Accounts.CreateOrgAsync(Owner, "adv-b");
        foreach (var role in Roles)
            Tokens[role] = await Accounts.CreateTokenAsync(Owner, await Accounts.CreateUserAsync(Owner, $"{role}@adv-a.test", OrgA, role));
        var viewer = await Scalar<Guid>("select id from registry.users where email = 'viewer@adv-a.test'");
        Tokens["viewer-read"] = await Accounts.CreateTokenAsync(Owner, viewer, "read");
        Tokens["developer-read"] = await Accounts.CreateTokenAsync(Owner, await Scalar<Guid>("select id from registry.users where email = 'developer@adv-a.test'"), "read");
        Tokens["b-owner"] = await Accounts.CreateTokenAsync(Owner, await Accounts.CreateUserAsync(Owner, "owner@adv-b.test", OrgB, "owner"));
        var admin = await Accounts.CreateUserAsync(Owner, "sysadmin@odooops.test");
        await Execute("update registry.users set is_system_admin = true where id = @admin", new { admin });
        Tokens["sysadmin"] = await Accounts.CreateTokenAsync(Owner, admin);
    }

    public HttpClient Client(string? actor = null)
    {
        var client = _app.GetTestClient();
        return actor is null ? client : client.WithToken(Tokens[actor]);
    }

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}";

    /// <summary>A project in org A (or B) with main (production), staging and feature-x.</summary>
    public Task<Guid> NewProjectAsync(bool inOrgB = false) => Accounts.CreateProjectAsync(Owner, inOrgB ? OrgB : OrgA, Unique("p"));

    public Task<Guid> BranchAsync(Guid project, string name) =>
        Scalar<Guid>("select id from ops.branches where project_id = @project and name = @name", new { project, name });

    /// <summary>POST /functions/v1/ops-advisory-scan with the right token: one project, or all when null.</summary>
    public async Task<JsonElement> ScanAsync(Guid? project = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, AdvisoryScanApi.Route);
        request.Headers.Add(AdvisoryScanApi.TokenHeader, TestHosts.AdvisoryScanToken);
        if (project is not null)
            request.Content = new StringContent($$"""{"project_id": "{{project}}"}""", Encoding.UTF8, "application/json");
        var response = await Client().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"scan answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public sealed record Row(Guid Id, Guid ProjectId, Guid? BranchId, string Rule, string Fingerprint, string Severity, string Title,
        string? Detail, double? MeasuredValue, string Status, DateTime? SuppressedUntil, string? SuppressReason,
        DateTime FirstSeenAt, DateTime LastSeenAt, DateTime? ResolvedAt);

    /// <summary>Every advisory of a project, as the owner sees them (RLS does not apply), oldest first.</summary>
    public async Task<List<Row>> AdvisoriesAsync(Guid project, string? rule = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<Row>("""
            select id, project_id, branch_id, rule, fingerprint, severity, title, detail, measured_value, status, suppressed_until,
                   suppress_reason, first_seen_at, last_seen_at, resolved_at
              from ops.advisories where project_id = @project and (@rule::text is null or rule = @rule)
             order by created_at, id
            """, new { project, rule })];
    }

    public async Task<T> Scalar<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task Execute(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        await conn.ExecuteAsync(sql, args);
    }

    public static StringContent Body(object body) => ApiWorld.Body(body);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }
}
