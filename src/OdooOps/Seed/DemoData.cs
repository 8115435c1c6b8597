using System.Security.Cryptography;
using Dapper;
using Npgsql;
using OdooOps.Auth;

namespace OdooOps.Seed;

/// <summary>
/// The demo organisation: users in three roles, three projects with branches in every stage, builds in several
/// statuses (queued ones really run when `serve` made the demo's git repositories), 24 hours of minute-level metrics for production branches and a few advisories.
/// Runs as the owner in one transaction; a second run finds the org and changes nothing.
/// </summary>
public static class DemoData
{
    public const string OrgSlug = "demo";
    public const string AdminEmail = "admin@demo.odooops.dev";

    public sealed record Result(bool Created, string? Password);

    /// <param name="repositories">Where to create the demo projects' git repositories (serve: the data dir), so that the
    /// embedded runner really builds them; null keeps example URLs.</param>
    public static async Task<Result> SeedAsync(string ownerConnectionString, string? password, TextWriter output, CancellationToken ct = default,
        string? repositories = null)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Two seeders at once: the second waits here, then sees the org.
        await conn.ExecuteAsync("select pg_advisory_xact_lock(hashtext('odooops.seed.demo'))", transaction: tx);
        if (await conn.ExecuteScalarAsync<bool>("select exists (select 1 from registry.orgs where slug = @OrgSlug)", new { OrgSlug }, tx))
        {
            output.WriteLine($"Demo data already present (organisation '{OrgSlug}'); nothing changed.");
            return new Result(false, null);
        }

        var generated = string.IsNullOrEmpty(password);
        password = generated ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', 'x').Replace('/', 'y') : password!;
        var hash = Passwords.Hash(password);

        var orgId = await conn.ExecuteScalarAsync<Guid>(
            "insert into registry.orgs (name, slug) values ('Demo Company', @OrgSlug) returning id", new { OrgSlug }, tx);
        foreach (var (email, name, role) in new[]
                 {
                     (AdminEmail, "Demo Admin", Role.Owner.Name()),
                     ("developer@demo.odooops.dev", "Dana Developer", Role.Developer.Name()),
                     ("tester@demo.odooops.dev", "Theo Tester", Role.Tester.Name()),
                     ("viewer@demo.odooops.dev", "Vera Viewer", Role.Viewer.Name()),
                 })
        {
            var userId = await conn.ExecuteScalarAsync<Guid>("""
                insert into registry.users (email, display_name, password_hash) values (@email, @name, @hash)
                on conflict ((lower(email))) do update set display_name = excluded.display_name
                returning id
                """, new { email, name, hash }, tx);
            await conn.ExecuteAsync("insert into registry.org_members (org_id, user_id, role) values (@orgId, @userId, @role)",
                new { orgId, userId, role }, tx);
        }

        await conn.ExecuteAsync(DemoSql, new { orgId }, tx);
        await DemoOrgActivity.SeedAsync(conn, tx, orgId, hash);
        await DemoMonitoring.SeedAsync(conn, tx, orgId);
        await DemoProjectSettings.SeedAsync(conn, tx, orgId);
        await DemoNotifications.SeedAsync(conn, tx, orgId);
        if (repositories is not null
            && await DemoRepositories.EnsureAsync(repositories, [("prod-erp", "erp_extras", "19.0"), ("shop", "shop_theme", "18.0"), ("field-service", "fsm_extras", "16.0")], ct) is { } repos)
            foreach (var (slug, dir) in repos)
                await conn.ExecuteAsync("update ops.projects set repo_url = @dir where org_id = @orgId and slug = @slug", new { dir, orgId, slug }, tx);
        await tx.CommitAsync(ct);

        output.WriteLine($"Demo data loaded: organisation '{OrgSlug}', 3 projects, sign in as {AdminEmail}");
        if (generated) output.WriteLine($"Demo password (shown once): {password}");
        return new Result(true, password);
    }

    /// <summary>Projects, branches, builds, metrics and advisories, set-based.</summary>
    const string DemoSql = """
        select ops.ensure_metric_partitions((now() at time zone 'utc')::date - 2, 10);

        with p(name, slug, repo, version, minutes_ago) as (values
            ('Production ERP', 'prod-erp', 'https://github.com/example/odoo-erp.git', '19.0', 5),
            ('Website & eCommerce', 'shop', 'https://github.com/example/odoo-shop.git', '18.0', 60),
            ('Field Service', 'field-service', 'https://github.com/example/odoo-fsm.git', '16.0', 600))
        insert into ops.projects (org_id, name, slug, repo_url, runtime_version, last_activity_at)
        select @orgId, name, slug, repo, version, now() - make_interval(mins => minutes_ago) from p;

        insert into ops.branches (project_id, name, stage, is_production)
        select p.id, b.name, b.stage, b.stage = 'production'
        from ops.projects p
        cross join (values ('main', 'production'), ('staging', 'staging'), ('feature/invoicing', 'development'), ('fix/stock-moves', 'development')) b(name, stage)
        where p.org_id = @orgId;

        -- Builds in several statuses; finished ones never enqueue, queued ones get their run_queue row from the trigger and
        -- build their branch's head (a runner makes them running; none is seeded running, which only a lease can be).
        insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, created_at, queued_at, started_at, finished_at, result_detail)
        select b.project_id, b.id, s.status, s.trigger, case when s.status <> 'queued' then substr(md5(b.id::text || s.n), 1, 40) end,
               now() - make_interval(mins => s.ago), now() - make_interval(mins => s.ago),
               case when s.status <> 'queued' then now() - make_interval(mins => s.ago - 1) end,
               case when s.status not in ('queued', 'running') then now() - make_interval(mins => s.ago - 4) end,
               s.detail
        from ops.branches b
        join ops.projects p on p.id = b.project_id and p.org_id = @orgId
        cross join lateral (values
            (1, 'success', 'push', 300, null),
            (2, case b.stage when 'production' then case p.slug when 'field-service' then 'failed' else 'success' end
                             when 'staging' then 'warning' else 'failed' end,
                'push', 120, case b.stage when 'development' then 'Step "tests" exited with code 1' end),
            (3, case b.stage when 'development' then 'queued' when 'staging' then 'cancelled'
                             else case p.slug when 'field-service' then 'failed' else 'success' end end, 'manual', 20, null)
        ) s(n, status, trigger, ago, detail);

        insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
        select b.project_id, b.id, 'queued', 'push', null
        from ops.branches b join ops.projects p on p.id = b.project_id and p.org_id = @orgId
        where b.name = 'feature/invoicing';

        -- 24 hours of minute-level samples for each production branch.
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
        select b.project_id, b.id, m.metric,
               date_trunc('minute', now()) - make_interval(mins => g.i),
               case m.metric
                   when 'cpu_pct' then round((35 + 25 * sin(g.i / 90.0) + random() * 10)::numeric, 1)
                   when 'mem_mb' then round((900 + 200 * sin(g.i / 240.0) + random() * 50)::numeric, 0)
                   else round((40 + 30 * sin(g.i / 120.0) + random() * 15)::numeric, 0)
               end,
               (select ops.metric_receipt_stamp()) -- evaluated once; ops.metric_receipt_stamp says why inserts stamp this way
        from ops.branches b
        join ops.projects p on p.id = b.project_id and p.org_id = @orgId
        cross join (values ('cpu_pct'), ('mem_mb'), ('requests')) m(metric)
        cross join generate_series(0, 1439) g(i)
        where b.stage = 'production';

        -- Advisories come from the real scan, so the demo shows what the rules find (Field Service: a failed production
        -- build and an unsupported Odoo version) and the next scheduled scan agrees with them.
        select s.* from ops.projects p, lateral ops.run_advisory_scan(p.id, '{}'::jsonb) s where p.org_id = @orgId;

        -- Branch and build inserts bumped every project to now(); give the list a realistic order again.
        update ops.projects p set last_activity_at = now() - make_interval(mins => v.minutes_ago)
        from (values ('prod-erp', 5), ('shop', 60), ('field-service', 600)) v(slug, minutes_ago)
        where p.org_id = @orgId and p.slug = v.slug;
        """;
}
