using Dapper;
using Npgsql;

namespace OdooOps.Seed;

/// <summary>
/// What the Members, Advisories and Audit log pages show on the demo: a second admin, a project-only contractor and two
/// open invitations; advisories of every severity and status beside the scan's (a suppressed one whose history holds an
/// expired suppression, one resolved by a person, one resolved by the scan); and three weeks of audit log by several
/// people, git pushes and the system — about 200 entries, several pages.
/// </summary>
internal static class DemoOrgActivity
{
    public static Task SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string passwordHash) =>
        conn.ExecuteAsync(Sql, new { orgId, passwordHash }, tx);

    const string Sql = """
        insert into registry.users (email, display_name, password_hash) values
            ('sam.admin@demo.odooops.dev', 'Sam Admin', @passwordHash),
            ('chris@partner.example', 'Chris Contractor', @passwordHash)
        on conflict ((lower(email))) do update set display_name = excluded.display_name;

        insert into registry.org_members (org_id, user_id, role, created_at)
        select @orgId, id, 'admin', now() - interval '40 days' from registry.users where email = 'sam.admin@demo.odooops.dev';

        insert into ops.project_members (project_id, user_id, role, created_at)
        select p.id, u.id, 'developer', now() - interval '9 days'
          from ops.projects p, registry.users u
         where p.org_id = @orgId and p.slug = 'shop' and u.email = 'chris@partner.example';

        insert into ops.member_invitations (org_id, project_id, email, role, invited_by, created_at, expires_at)
        select @orgId, p.id, i.email, i.role, u.id, now() - i.age, now() - i.age + interval '14 days'
          from (values ('new.hire@demo.odooops.dev', 'developer', null, 'admin@demo.odooops.dev', interval '1 day'),
                       ('auditor@partner.example', 'viewer', 'prod-erp', 'sam.admin@demo.odooops.dev', interval '3 hours')) i(email, role, project, inviter, age)
          join registry.users u on u.email = i.inviter
          left join ops.projects p on p.org_id = @orgId and p.slug = i.project;

        -- Advisories with a history (the insert trigger opens each at first_seen_at; the later steps are written here
        -- with their own times and people, as the trigger would have at the time).
        create temporary table demo_advisories (id uuid, project_id uuid, rule text) on commit drop;
        with made as (
            insert into ops.advisories (project_id, branch_id, rule, fingerprint, severity, title, detail, remediation, measured_value,
                                        status, suppressed_until, suppress_reason, first_seen_at, last_seen_at, resolved_at)
            select p.id, b.id, d.rule, d.rule || ':' || coalesce(b.id, p.id), d.severity, d.title, d.detail, d.remediation, d.measured,
                   d.status, now() + d.until, d.reason, now() - d.opened, now() - d.seen, now() - d.resolved
              from (values
                ('prod-erp', 'main', 'cpu_high', 'critical', 'CPU high on main',
                 'CPU averaged 91.4% over the last 15 minutes (15 samples; threshold 85%).',
                 'Find what keeps the workers busy (slow requests, cron jobs, imports); add workers or CPU, or move heavy jobs off peak hours.',
                 91.4, 'suppressed', interval '5 days', 'Month-end closing runs heavy reports; more CPU ordered (OPS-142)',
                 interval '3 days', interval '4 minutes', null::interval),
                ('shop', 'main', 'memory_high', 'warning', 'Memory high on main',
                 'Memory stayed above 90% of the instance''s limit (1.8 of 2 GiB) for 15 minutes.',
                 'Lower the workers'' memory limits or raise the instance''s memory (the branch''s Instance page); look for a report or import that loads too much at once.',
                 1843, 'resolved', null, null, interval '2 days', interval '26 hours', interval '1 day'),
                ('field-service', null, 'no_production_branch', 'info', 'No production branch',
                 'The project has branches but none in production yet.',
                 'Move the branch that should go live to production on the Branches page.',
                 null, 'resolved', null, null, interval '20 days', interval '19 days', interval '19 days')
              ) d(project, branch, rule, severity, title, detail, remediation, measured, status, until, reason, opened, seen, resolved)
              join ops.projects p on p.org_id = @orgId and p.slug = d.project
              left join ops.branches b on b.project_id = p.id and b.name = d.branch
            returning id, project_id, rule)
        insert into demo_advisories select * from made;

        insert into ops.advisory_events (advisory_id, project_id, event, actor_user_id, suppressed_until, reason, created_at)
        select a.id, a.project_id, e.event, u.id, now() + e.until, e.reason, now() - e.ago
          from demo_advisories a
          join (values
            ('cpu_high', 'suppressed', 'developer@demo.odooops.dev', interval '-1 day', 'Load test of the new warehouse flows until tomorrow', interval '2 days'),
            ('cpu_high', 'unsuppressed', null, null, null, interval '1 day' - interval '3 minutes'),
            ('cpu_high', 'suppressed', 'admin@demo.odooops.dev', interval '5 days', 'Month-end closing runs heavy reports; more CPU ordered (OPS-142)', interval '20 hours'),
            ('memory_high', 'resolved', 'developer@demo.odooops.dev', null, null, interval '1 day'),
            ('no_production_branch', 'resolved', null, null, null, interval '19 days')
          ) e(rule, event, who, until, reason, ago) on e.rule = a.rule
          left join registry.users u on u.email = e.who
         order by e.ago desc;

        -- Three weeks of audit log, oldest first so that ids follow time: the advisories' changes above, and a steady
        -- mix of everyday work by four people, git pushes and the system.
        insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip, created_at)
        select @orgId, r.project_id, u.id, r.actor, r.action, r.target_type, r.target_id, r.before, r.after, r.ip::inet, r.at
          from (
            select a.project_id, e.who, case when e.who is null then 'system' else 'user' end as actor,
                   'advisory.' || case e.event when 'suppressed' then 'suppress' when 'resolved' then 'resolve' else 'unsuppress' end as action,
                   'advisory' as target_type, a.id::text as target_id, null::jsonb as before,
                   jsonb_build_object('rule', a.rule, 'status', e.event, 'suppressed_until', now() + e.until, 'suppress_reason', e.reason) as after,
                   '203.0.113.24' as ip, now() - e.ago as at
              from demo_advisories a
              join (values ('cpu_high', 'suppressed', 'developer@demo.odooops.dev', interval '-1 day', 'Load test of the new warehouse flows until tomorrow', interval '2 days'),
                           ('cpu_high', 'suppressed', 'admin@demo.odooops.dev', interval '5 days', 'Month-end closing runs heavy reports; more CPU ordered (OPS-142)', interval '20 hours'),
                           ('memory_high', 'resolved', 'developer@demo.odooops.dev', null, null, interval '1 day')) e(rule, event, who, until, reason, ago)
                on e.rule = a.rule
            union all
            select p.id, t.who, t.actor, t.action, t.target_type,
                   case t.target_type when 'project' then p.id::text when 'branch' then b.id::text when 'build' then bu.id::text
                                      else gen_random_uuid()::text end,
                   t.before, t.after || jsonb_build_object('branch', b.name), t.ip, now() - make_interval(mins => g * 151 + (g * 37) % 60)
              from generate_series(1, 200) g
              join (values
                (0, 'developer@demo.odooops.dev', 'user', 'build.trigger', 'build', null::jsonb, '{"trigger": "manual"}'::jsonb, '203.0.113.24'),
                (1, null, 'webhook', 'build.trigger', 'build', null, '{"trigger": "push", "detail": "github push"}', '140.82.115.3'),
                (2, 'developer@demo.odooops.dev', 'user', 'branch.stage', 'branch', '{"stage": "development"}', '{"stage": "staging"}', '203.0.113.24'),
                (3, 'tester@demo.odooops.dev', 'user', 'build.trigger', 'build', null, '{"trigger": "manual"}', '198.51.100.7'),
                (4, null, 'webhook', 'build.trigger', 'build', null, '{"trigger": "push", "detail": "github push"}', '140.82.115.3'),
                (5, 'tester@demo.odooops.dev', 'user', 'backup.create', 'backup', null, '{"kind": "manual"}', '198.51.100.7'),
                (6, 'admin@demo.odooops.dev', 'user', 'project.update', 'project', '{"name": "ERP"}', '{"name": "Production ERP"}', '203.0.113.10'),
                (7, 'developer@demo.odooops.dev', 'user', 'instance.restart', 'instance', '{"state": "running"}', '{"desired": "running"}', '203.0.113.24'),
                (8, null, 'system', 'backup.create', 'backup', null, '{"kind": "daily"}', null),
                (9, 'sam.admin@demo.odooops.dev', 'user', 'branch.instance_settings', 'branch', '{"workers": 2}', '{"workers": 4}', '192.0.2.55'),
                (10, 'developer@demo.odooops.dev', 'user', 'build.cancel', 'build', '{"status": "queued"}', '{"status": "cancelled"}', '203.0.113.24'),
                (11, 'sam.admin@demo.odooops.dev', 'user', 'member.invite', 'invitation', null, '{"email": "warehouse.lead@demo.odooops.dev", "role": "tester"}', '192.0.2.55'),
                (12, 'admin@demo.odooops.dev', 'user', 'deployment.rollback', 'deployment', null, '{"stage": "staging"}', '203.0.113.10'),
                (13, null, 'webhook', 'branch.create', 'branch', null, '{"detail": "github push", "stage": "development"}', '140.82.115.3')
              ) t(n, who, actor, action, target_type, before, after, ip) on t.n = g % 14
              join ops.projects p on p.org_id = @orgId and p.slug = (array['prod-erp', 'shop', 'field-service'])[1 + g % 3]
              join ops.branches b on b.project_id = p.id and b.name = case when t.action = 'branch.stage' then 'fix/stock-moves' when g % 2 = 0 then 'main' else 'staging' end
              left join lateral (select x.id from ops.builds x where x.branch_id = b.id order by x.created_at desc limit 1) bu on true
          ) r(project_id, who, actor, action, target_type, target_id, before, after, ip, at)
          left join registry.users u on u.email = r.who
         order by r.at;
        """;
}
