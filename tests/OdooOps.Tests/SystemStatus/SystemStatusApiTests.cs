using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.SystemStatus;

/// <summary>
/// GET /api/ops/system and the System page: a system administrator who belongs to no organisation sees the whole
/// server (every organisation's queue, runners, the jobs and their runs, the database and pools); an organisation's
/// owner is refused 403 and learns no number; the database functions refuse a non-admin caller themselves, so a
/// request that skipped the host's check would still get nothing; the sidebar offers System to administrators only.
/// </summary>
public sealed class SystemStatusApiTests(SystemStatusApiTests.World world) : IClassFixture<SystemStatusApiTests.World>
{
    public sealed class World(PostgresCluster cluster) : IAsyncLifetime
    {
        public OdooOpsFactory Factory { get; private set; } = null!;
        public Guid Admin { get; private set; }
        public Guid Owner { get; private set; }
        public HttpClient AdminApi { get; private set; } = null!;
        public HttpClient OwnerApi { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Factory = await OdooOpsFactory.CreateAsync(cluster, "system");
            var a = await Accounts.CreateOrgAsync(Factory.Owner, "sys-a");
            var b = await Accounts.CreateOrgAsync(Factory.Owner, "sys-b");
            Owner = await Accounts.CreateUserAsync(Factory.Owner, "owner@sys-a.test", a, "owner");
            Admin = await Accounts.CreateUserAsync(Factory.Owner, "root@ops.test"); // in no organisation
            var pa = await Accounts.CreateProjectAsync(Factory.Owner, a, "erp");
            var pb = await Accounts.CreateProjectAsync(Factory.Owner, b, "shop");
            await using var conn = await Accounts.OpenAsync(Factory.Owner);
            await conn.ExecuteAsync("""
                update registry.users set is_system_admin = true where id = @Admin;
                insert into ops.builds (project_id, branch_id, status, trigger, queued_at)
                select b.project_id, b.id, 'queued', 'push', now() - make_interval(mins => case when b.project_id = @pb then 50 else 5 end)
                  from ops.branches b where b.project_id in (@pa, @pb) and b.name = 'feature-x';
                insert into ops.runners (org_id, name, token_hash, capacity, last_seen_at) values
                    (@a, 'a-host', sha256('a'::bytea), 3, now()),
                    (@b, 'b-host', sha256('b'::bytea), 2, now() - interval '10 minutes');
                insert into ops.runners (org_id, name, token_hash, disabled_at) values (null, 'shared', sha256('s'::bytea), now());
                insert into ops.job_runs (job, node, scheduled_for, started_at, finished_at, outcome, detail)
                select 'rollups', 'n1', t, t, t + interval '1 second', case when n = 2 then 'failed' else 'success' end, 'run ' || n
                  from generate_series(1, 12) n, lateral (select date_trunc('minute', now()) - make_interval(mins => n) as t) x;
                """, new { Admin, a, b, pa, pb });
            AdminApi = Factory.CreateClient().WithToken(await Accounts.CreateTokenAsync(Factory.Owner, Admin, "read"));
            OwnerApi = Factory.CreateClient().WithToken(await Accounts.CreateTokenAsync(Factory.Owner, Owner, "read"));
        }

        public async ValueTask DisposeAsync()
        {
            AdminApi.Dispose();
            OwnerApi.Dispose();
            await Factory.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_system_administrator_sees_the_whole_servers_state()
    {
        var response = await world.AdminApi.GetAsync("/api/ops/system");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var s = JsonDocument.Parse(body).RootElement;

        var queue = s.GetProperty("build_queue");
        Assert.Equal((2, 0, "sys-b/shop"), (queue.GetProperty("queued").GetInt32(), queue.GetProperty("leased").GetInt32(),
            queue.GetProperty("oldest_project").GetString()));
        var runners = s.GetProperty("runners");
        Assert.Equal((3, 1, 1, 3), (runners.GetProperty("total").GetInt32(), runners.GetProperty("online").GetInt32(),
            runners.GetProperty("disabled").GetInt32(), runners.GetProperty("capacity").GetInt32()));

        var jobs = s.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Equal(OdooOps.Server.ServerApp.Jobs.Select(j => j.Name).Order(), jobs.Keys.Order());
        var rollups = jobs["rollups"];
        // The server's own scheduler runs rollups every minute too: its runs may come first.
        var recent = rollups.GetProperty("recent_runs").EnumerateArray().Select(r => r.GetProperty("detail").GetString()).ToList();
        Assert.Equal(10, recent.Count);
        Assert.Contains("run 1", recent);
        Assert.True(rollups.GetProperty("failed_last_day").GetInt32() >= 1);
        Assert.Equal("* * * * *", rollups.GetProperty("cron").GetString());

        var database = s.GetProperty("database");
        Assert.True(database.GetProperty("size_bytes").GetInt64() > 1_000_000);
        Assert.True(database.GetProperty("max_connections").GetInt32() > 0);
        Assert.Contains(database.GetProperty("connections").EnumerateArray(), c => c.GetProperty("application").GetString() == "odooops-app");
        // The process's pools come from the process-wide Npgsql meter (the tests' servers share it, unpooled): only their shape here.
        Assert.Equal(JsonValueKind.Array, database.GetProperty("pools").ValueKind);
        Assert.Equal(["Function errors", "API response time", "Console availability", "Connection pool saturation", "Build queue", "Runners online", "Scheduled jobs"],
            s.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task An_organisation_owner_is_refused_and_learns_no_number()
    {
        var response = await world.OwnerApi.GetAsync("/api/ops/system");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("system administrators only", body);
        Assert.DoesNotContain("rollups", body);
        Assert.DoesNotContain("sys-b", body);
        using var anonymous = world.Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/ops/system")).StatusCode);
    }

    [Fact]
    public async Task The_database_functions_refuse_a_caller_who_is_not_a_system_administrator()
    {
        var creds = await LoginRoles.EnsureAsync(world.Factory.Owner);
        foreach (var function in new[] { "ops.system_status()", "ops.system_connections()" })
        {
            await using var app = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(creds.App.ConnectionString) { Pooling = false }.ConnectionString);
            await app.OpenAsync();
            await using var tx = await app.BeginTransactionAsync();
            await app.ExecuteAsync("select set_config('ops.user_id', @id, true)", new { id = world.Owner.ToString() }, tx);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => app.QueryAsync($"select * from {function}", transaction: tx));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task The_page_and_its_sidebar_link_are_the_administrators_only()
    {
        using var admin = world.Factory.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(admin, "root@ops.test")).StatusCode);
        var page = await admin.GetAsync("/app/system");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("data-job=\"runner_rescue\"", html);
        Assert.Contains("sys-b/shop", html);
        Assert.Contains("href=\"app/system\"", html);

        using var owner = world.Factory.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(owner, "owner@sys-a.test")).StatusCode);
        var refused = await owner.GetAsync("/app/system");
        var refusedHtml = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("For the server's administrators", refusedHtml);
        Assert.DoesNotContain("sys-b/shop", refusedHtml);
        Assert.DoesNotContain("href=\"app/system\"", await owner.GetStringAsync("/app/projects"));
    }
}
