using Dapper;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Seed;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>The demo seed on a fresh database: what it creates, that it is usable through the app role, and that a rerun is a no-op.</summary>
public sealed class DemoDataTests(DemoDataTests.SeededDatabase seeded) : IClassFixture<DemoDataTests.SeededDatabase>
{
    public const string Password = "pw-123456";

    /// <summary>One database seeded once for the class; the tests only read it (the rerun test checks it changes nothing).</summary>
    public sealed class SeededDatabase(PostgresCluster cluster) : IAsyncLifetime
    {
        public NpgsqlConnectionStringBuilder Owner { get; private set; } = null!;
        public DemoData.Result First { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Owner = await cluster.CreateDatabaseAsync("demo");
            First = await DemoData.SeedAsync(Owner.ConnectionString, Password, TextWriter.Null);
        }

        public async Task<NpgsqlConnection> OpenOwnerAsync()
        {
            var conn = new NpgsqlConnection(Owner.ConnectionString);
            await conn.OpenAsync();
            return conn;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Seeds_three_projects_each_with_every_stage_and_one_production_branch()
    {
        Assert.Equal(new DemoData.Result(true, Password), seeded.First);
        await using var owner = await seeded.OpenOwnerAsync();
        var projects = (await owner.QueryAsync<(Guid Id, string Slug, int Dev, int Staging, int Production)>("""
            select p.id, p.slug,
                   count(*) filter (where b.stage = 'development')::int,
                   count(*) filter (where b.stage = 'staging')::int,
                   count(*) filter (where b.stage = 'production' and b.archived_at is null)::int
              from ops.projects p join ops.branches b on b.project_id = p.id
             group by p.id, p.slug
            """)).ToList();
        Assert.Equal(["field-service", "prod-erp", "shop"], projects.Select(p => p.Slug).Order());
        Assert.All(projects, p => Assert.True(p.Dev >= 1 && p.Staging >= 1 && p.Production == 1, $"{p.Slug}: {p}"));
    }

    [Fact]
    public async Task Builds_cover_every_status_a_console_shows_and_queued_ones_are_in_the_run_queue()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var statuses = (await owner.QueryAsync<string>("select distinct status from ops.builds")).ToHashSet();
        Assert.Superset(new HashSet<string> { "success", "warning", "failed", "queued", "cancelled" }, statuses);
        Assert.DoesNotContain("running", statuses); // only a runner's lease makes a build running
        var (queued, inQueue) = await owner.QuerySingleAsync<(int, int)>("""
            select count(*)::int, count(q.build_id)::int
              from ops.builds b left join ops.run_queue q on q.build_id = b.id and q.state = 'queued'
             where b.status = 'queued'
            """);
        Assert.True(queued > 0);
        Assert.Equal(queued, inQueue);
        Assert.Equal(queued, await owner.ExecuteScalarAsync<int>("select count(*)::int from ops.run_queue"));
    }

    [Fact]
    public async Task Every_production_branch_has_24_hours_of_minute_samples_per_metric()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var series = (await owner.QueryAsync<(Guid Branch, string Metric, int Samples, double Hours)>("""
            select b.id, s.metric, count(*)::int, extract(epoch from max(s.ts) - min(s.ts)) / 3600
              from ops.branches b join ops.metric_samples s on s.branch_id = b.id
             where b.stage = 'production'
             group by b.id, s.metric
            """)).ToList();
        Assert.Equal(3 * 3, series.Count); // 3 production branches x 3 metrics
        Assert.All(series, s => Assert.True(s.Samples == 1440 && s.Hours >= 23.98, $"{s}"));
        Assert.Equal(0L, await owner.ExecuteScalarAsync<long>(
            "select count(*) from ops.metric_samples s join ops.branches b on b.id = s.branch_id where b.stage <> 'production'"));
    }

    [Fact]
    public async Task Some_advisories_are_open()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        Assert.True(await owner.ExecuteScalarAsync<long>("select count(*) from ops.advisories where status = 'open'") >= 2);
        Assert.True(await owner.ExecuteScalarAsync<long>("select count(*) from ops.advisories where severity = 'critical'") >= 1);
    }

    [Fact]
    public async Task The_demo_admin_can_sign_in_with_the_given_password()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var (hash, role) = await owner.QuerySingleAsync<(string, string)>("""
            select u.password_hash, m.role from registry.users u join registry.org_members m on m.user_id = u.id
             where lower(u.email) = lower(@AdminEmail) and u.is_active
            """, new { DemoData.AdminEmail });
        Assert.True(Passwords.Verify(hash, Password));
        Assert.False(Passwords.Verify(hash, Password + "x"));
        Assert.Equal("owner", role);
    }

    [Fact]
    public async Task A_second_seed_reports_nothing_created_and_changes_no_row()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var before = await DbSnapshot.TakeAsync(owner);
        Assert.True(before.RowCount() > 10_000);
        var output = new StringWriter();

        var second = await DemoData.SeedAsync(seeded.Owner.ConnectionString, "other-password", output);

        Assert.Equal(new DemoData.Result(false, null), second);
        Assert.Contains("nothing changed", output.ToString());
        Assert.Equal(before, await DbSnapshot.TakeAsync(owner)); // same rows, not only the same counts
    }

    [Fact]
    public async Task The_demo_viewer_sees_the_three_projects_through_the_app_role()
    {
        var creds = await LoginRoles.EnsureAsync(seeded.Owner);
        await using var owner = await seeded.OpenOwnerAsync();
        var viewer = await owner.ExecuteScalarAsync<Guid>("select id from registry.users where email = 'viewer@demo.odooops.dev'");

        await using var app = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(creds.App.ConnectionString) { Pooling = false }.ConnectionString);
        await app.OpenAsync();
        await using var tx = await app.BeginTransactionAsync();
        await app.ExecuteAsync("select set_config('ops.user_id', @id, true)", new { id = viewer.ToString() }, tx);
        var projects = (await app.QueryAsync<(string Slug, string ProductionBranch)>(
            "select slug, production_branch from ops.list_projects()", transaction: tx)).ToList();

        Assert.Equal(["field-service", "prod-erp", "shop"], projects.Select(p => p.Slug).Order());
        Assert.All(projects, p => Assert.Equal("main", p.ProductionBranch));
    }
}
