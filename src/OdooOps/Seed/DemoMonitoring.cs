using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;
using OdooOps.Scheduler;
using OdooOps.Server;

namespace OdooOps.Seed;

/// <summary>
/// The demo's monitoring: 30 days of metrics with their rollups (raw samples for the last day; response time and a
/// pushed metric besides CPU, memory and requests; prod-erp's staging too), releases that went live on the production
/// and staging branches with their instances (so the overview shows production's state and address, and the charts
/// their deployment marks), and, on a server nobody administers yet, the demo admin as its system administrator and a
/// history of scheduled job runs (so the System page has something to show; an administered server's is never touched).
/// </summary>
internal static class DemoMonitoring
{
    public static async Task SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId)
    {
        await conn.ExecuteAsync(MetricsSql, new { orgId }, tx);
        await conn.ExecuteAsync(ReleasesSql, new { orgId }, tx);
        // A server somebody already administers keeps its administrators and its job history as they are.
        if (await conn.ExecuteScalarAsync<bool>("select exists (select 1 from registry.users where is_system_admin)", transaction: tx)) return;
        await conn.ExecuteAsync("update registry.users set is_system_admin = true where lower(email) = lower(@AdminEmail)", new { DemoData.AdminEmail }, tx);
        await SeedJobRunsAsync(conn, tx);
    }

    /// <summary>Each job's last 8 ticks of its default cron, run by "demo"; the third-last advisory scan failed.</summary>
    static async Task SeedJobRunsAsync(NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var now = DateTimeOffset.UtcNow;
        var schedule = JobSchedule.Build(ServerApp.Jobs, new ConfigurationBuilder().Build());
        var rows = schedule.Entries.SelectMany(e => e.Expression.GetOccurrences(now.AddDays(-10), now, TimeZoneInfo.Utc).TakeLast(8).Reverse()
            .Select((tick, n) => (Job: e.Job.Name, Tick: tick.UtcDateTime, Failed: e.Job.Name == "advisory_scan" && n == 2))).ToList();
        await conn.ExecuteAsync("""
            insert into ops.job_runs (job, node, scheduled_for, started_at, finished_at, outcome, detail)
            select r.job, 'demo', r.tick, r.tick + interval '40 milliseconds', r.tick + make_interval(secs => 0.04 + r.n % 7 * 0.3),
                   case when r.failed then 'failed' else 'success' end,
                   case when r.failed then 'timed out after 5 min' when r.job = 'rollups' then '60 sample(s) folded into 60 minute and 5 hour bucket(s)' else 'done' end
              from unnest(@jobs::text[], @ticks::timestamptz[], @failed::boolean[]) with ordinality r(job, tick, failed, n)
                on conflict (job, scheduled_for) do nothing -- a tick this server ran already keeps its own run
            """, new { jobs = rows.Select(r => r.Job).ToArray(), ticks = rows.Select(r => r.Tick).ToArray(), failed = rows.Select(r => r.Failed).ToArray() }, tx);
    }

    /// <summary>Shapes (value = base + amp·sin(minutes ago / period) + noise), the raw day, its rollups, then hours back to 30 days.</summary>
    const string MetricsSql = """
        create temp table demo_shape (metric text primary key, base float8, amp float8, period float8, noise float8) on commit drop;
        insert into demo_shape values ('cpu_pct', 35, 25, 90, 10), ('mem_mb', 900, 200, 240, 50), ('requests', 40, 30, 120, 15),
                                      ('response_ms', 180, 60, 200, 40), ('queue_jobs', 4, 4, 300, 3);
        create temp table demo_series on commit drop as
            select b.project_id, b.id as branch_id, s.metric, case when b.stage = 'staging' then 0.5 else 1 end as scale
              from ops.branches b join ops.projects p on p.id = b.project_id and p.org_id = @orgId
              cross join demo_shape s
             where b.stage = 'production' or (p.slug = 'prod-erp' and b.name = 'staging');

        -- The raw last day of what the base demo does not have yet (it has CPU, memory and requests of production).
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
        select d.project_id, d.branch_id, d.metric, date_trunc('minute', now()) - make_interval(mins => g.i),
               round((d.scale * greatest(0, s.base + s.amp * sin(g.i / s.period) + random() * s.noise))::numeric, 1),
               (select ops.metric_receipt_stamp())
          from demo_series d join demo_shape s using (metric)
         cross join generate_series(0, 1439) g(i)
         where not exists (select 1 from ops.metric_samples x
                            where x.project_id = d.project_id and x.metric = d.metric and x.branch_id = d.branch_id);

        -- Minute rollups as the rollups job folds them, then two more days of them.
        insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
        select s.project_id, s.branch_id, s.metric, date_trunc('minute', s.ts), count(*), sum(s.value), min(s.value), max(s.value),
               (array_agg(s.value order by s.ts desc))[1], max(s.ts)
          from ops.metric_samples s join demo_series d using (project_id, branch_id, metric)
         group by 1, 2, 3, 4;
        insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
        select d.project_id, d.branch_id, d.metric, t.at, 1, v.v, v.v, v.v, v.v, t.at
          from demo_series d join demo_shape s using (metric)
         cross join generate_series(1440, 4319) g(i)
         cross join lateral (select date_trunc('minute', now()) - make_interval(mins => g.i) as at) t
         cross join lateral (select round((d.scale * greatest(0, s.base + s.amp * sin(g.i / s.period) + random() * s.noise))::numeric, 1)::float8 as v) v;

        -- Hour rollups from those minutes, as the job does; older hours back to 30 days made the same way, each of 60 minutes.
        insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
        select m.project_id, m.branch_id, m.metric, date_trunc('hour', m.bucket), sum(m.count), sum(m.sum), min(m.min), max(m.max),
               (array_agg(m.last order by m.last_ts desc))[1], max(m.last_ts)
          from ops.metric_rollups_minute m join demo_series d using (project_id, branch_id, metric)
         group by 1, 2, 3, 4;
        insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
        select d.project_id, d.branch_id, d.metric, h.at, 60, 60 * v.v, v.v - v.spread, v.v + v.spread, v.v, h.at + interval '59 minutes'
          from demo_series d join demo_shape s using (metric)
         cross join generate_series(1, 30 * 24 - 72) g(j)
         cross join lateral (select date_trunc('hour', date_trunc('minute', now()) - interval '4319 minutes') - make_interval(hours => g.j) as at) h
         cross join lateral (select d.scale * greatest(0, s.base + s.amp * sin(extract(epoch from now() - h.at) / 60 / s.period) + random() * s.noise) as v,
                                    d.scale * s.noise as spread) v;
        """;

    /// <summary>
    /// Releases that went live on each production branch (older ones superseded, their instances retired; prod-erp also a
    /// failed one) and on prod-erp's staging, with their builds, instances and host names; project activity kept as it was.
    /// </summary>
    const string ReleasesSql = """
        create temp table demo_activity on commit drop as select id, last_activity_at from ops.projects where org_id = @orgId;
        create temp table demo_release on commit drop as
            select b.project_id, b.id as branch_id, b.stage, b.name, p.slug, r.n, r.hours_ago, r.status,
                   gen_random_uuid() as build_id, gen_random_uuid() as instance_id, md5(b.id::text || r.n) as sha
              from ops.branches b join ops.projects p on p.id = b.project_id and p.org_id = @orgId
              join (values ('prod-erp', 'main', 1, 290, 'superseded'), ('prod-erp', 'main', 2, 144, 'superseded'),
                           ('prod-erp', 'main', 3, 70, 'failed'), ('prod-erp', 'main', 4, 20, 'live'),
                           ('prod-erp', 'staging', 1, 30, 'superseded'), ('prod-erp', 'staging', 2, 5, 'live'),
                           ('shop', 'main', 1, 220, 'superseded'), ('shop', 'main', 2, 50, 'live'),
                           ('field-service', 'main', 1, 100, 'live'))
                   r(slug, branch, n, hours_ago, status) on r.slug = p.slug and r.branch = b.name;

        update ops.projects p
           set host_label = case when exists (select 1 from ops.projects o where o.host_label = ops_private.host_label(p.slug))
                                 then ops_private.host_label(p.slug, 54) || '-' || left(replace(p.id::text, '-', ''), 8)
                                 else ops_private.host_label(p.slug) end
         where p.org_id = @orgId and p.host_label is null;
        update ops.branches b set host_label = ops_private.host_label(b.name)
         where b.host_label is null and b.id in (select branch_id from demo_release);

        insert into ops.builds (id, project_id, branch_id, status, trigger, commit_sha, commit_message, created_at, queued_at, started_at, finished_at)
        select r.build_id, r.project_id, r.branch_id, 'success', 'push', r.sha, 'Release ' || r.n || ' of ' || r.name,
               now() - make_interval(hours => r.hours_ago, mins => 9), now() - make_interval(hours => r.hours_ago, mins => 9),
               now() - make_interval(hours => r.hours_ago, mins => 8), now() - make_interval(hours => r.hours_ago, mins => 1)
          from demo_release r;

        -- Live ones run; a failed release was reverted to the one before (its instance never became current).
        insert into ops.instances (id, project_id, branch_id, build_id, stage, state, reason, desired, is_current, database_name, http_port,
                                   started_at, ready_at, stopped_at, retired_at, downtime_ms, created_at)
        select r.instance_id, r.project_id, r.branch_id, r.build_id, r.stage,
               case when r.status = 'live' then 'running' else 'stopped' end,
               case r.status when 'failed' then 'the update of sale_extra failed; the previous release runs again'
                             when 'superseded' then 'superseded by a newer release' end,
               case when r.status = 'live' then 'running' else 'stopped' end, r.status = 'live',
               r.slug || '-' || r.name || '-' || r.n, 8069 + r.n,
               now() - make_interval(hours => r.hours_ago), now() - make_interval(hours => r.hours_ago),
               case when r.status <> 'live' then now() - make_interval(hours => r.hours_ago) + interval '1 hour' end,
               case when r.status <> 'live' then now() - make_interval(hours => r.hours_ago) + interval '1 hour' end,
               case when r.stage = 'production' then 4200 + 300 * r.n end, now() - make_interval(hours => r.hours_ago)
          from demo_release r;

        insert into ops.deployments (project_id, branch_id, build_id, stage, status, kind, instance_id, commit_sha, started_at, finished_at,
                                     ended_at, switch_ms, reason, created_at)
        select r.project_id, r.branch_id, r.build_id, r.stage, r.status, 'build', r.instance_id, r.sha,
               now() - make_interval(hours => r.hours_ago, mins => 8), now() - make_interval(hours => r.hours_ago),
               case when r.status = 'superseded' then now() - make_interval(hours => (select min(o.hours_ago) from demo_release o
                                                                                          where o.branch_id = r.branch_id and o.hours_ago < r.hours_ago)) end,
               case when r.stage = 'production' then 4200 + 300 * r.n else 0 end,
               case when r.status = 'failed' then 'The update of sale_extra failed (KeyError: ''partner_shipping_id''); the previous release runs again.' end,
               now() - make_interval(hours => r.hours_ago, mins => 9)
          from demo_release r;

        update ops.projects p set last_activity_at = a.last_activity_at from demo_activity a where a.id = p.id;
        """;
}
