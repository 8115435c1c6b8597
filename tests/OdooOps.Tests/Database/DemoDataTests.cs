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
    public async Task Every_production_branch_and_one_staging_branch_have_24_hours_of_minute_samples_per_metric()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var series = (await owner.QueryAsync<(string Stage, string Metric, int Samples, double Hours)>("""
            select b.stage, s.metric, count(*)::int, extract(epoch from max(s.ts) - min(s.ts)) / 3600
              from ops.branches b join ops.metric_samples s on s.branch_id = b.id
             group by b.id, b.stage, s.metric
            """)).ToList();
        // 3 production branches and prod-erp's staging x CPU, memory, requests, response time and a pushed metric
        Assert.Equal(4 * 5, series.Count);
        Assert.Equal(5, series.Count(s => s.Stage == "staging"));
        Assert.Equal(["cpu_pct", "mem_mb", "queue_jobs", "requests", "response_ms"], series.Select(s => s.Metric).Distinct().Order());
        Assert.All(series, s => Assert.True(s.Samples == 1440 && s.Hours >= 23.98, $"{s}"));
    }

    [Fact]
    public async Task Rollups_reach_back_30_days_and_agree_with_the_raw_samples_they_fold()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var spans = (await owner.QueryAsync<(int Minutes, double HourDays, double MinuteHours)>("""
            select (select count(*)::int from ops.metric_rollups_minute m where m.branch_id = d.branch_id and m.metric = d.metric),
                   (select extract(epoch from now() - min(h.bucket)) / 86400 from ops.metric_rollups_hour h where h.branch_id = d.branch_id and h.metric = d.metric),
                   (select extract(epoch from now() - min(m.bucket)) / 3600 from ops.metric_rollups_minute m where m.branch_id = d.branch_id and m.metric = d.metric)
              from (select distinct branch_id, metric from ops.metric_samples) d
            """)).ToList();
        Assert.Equal(20, spans.Count);
        Assert.All(spans, s => Assert.True(s.Minutes == 4320 && s.HourDays >= 29.9 && s.MinuteHours >= 71.9, $"{s}"));
        // What the rollups job would fold from the raw samples, bucket for bucket.
        Assert.Equal(0L, await owner.ExecuteScalarAsync<long>("""
            select count(*) from (
                select s.branch_id, s.metric, date_trunc('minute', s.ts) as bucket, count(*) as n, sum(s.value) as total
                  from ops.metric_samples s group by 1, 2, 3) raw
              left join ops.metric_rollups_minute m on m.branch_id = raw.branch_id and m.metric = raw.metric and m.bucket = raw.bucket
             where m.count is distinct from raw.n or m.sum is distinct from raw.total
            """));
    }

    [Fact]
    public async Task Production_branches_have_a_running_instance_and_releases_that_went_live_and_the_system_has_a_history()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var production = (await owner.QueryAsync<(string Slug, int Live, int Running, int Deployments, bool Labelled)>("""
            select p.slug,
                   (select count(*)::int from ops.deployments d where d.branch_id = b.id and d.status = 'live'),
                   (select count(*)::int from ops.instances i where i.branch_id = b.id and i.is_current and i.state = 'running'),
                   (select count(*)::int from ops.deployments d where d.branch_id = b.id),
                   p.host_label is not null and b.host_label is not null
              from ops.projects p join ops.branches b on b.project_id = p.id and b.stage = 'production'
            """)).ToList();
        Assert.All(production, p => Assert.True(p is { Live: 1, Running: 1, Deployments: >= 1, Labelled: true }, $"{p}"));
        Assert.Equal(1L, await owner.ExecuteScalarAsync<long>("select count(*) from ops.deployments where status = 'failed'"));
        Assert.True(await owner.ExecuteScalarAsync<bool>("select is_system_admin from registry.users where email = @AdminEmail", new { DemoData.AdminEmail }));
        Assert.Equal(OdooOps.Server.ServerApp.Jobs.Select(j => j.Name).Order(),
            await owner.QueryAsync<string>("select distinct job from ops.job_runs order by 1"));
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
