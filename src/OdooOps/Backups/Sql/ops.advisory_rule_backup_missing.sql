-- backup_missing (critical): a production branch with a current instance has had no succeeded daily backup in the last
-- 26 hours (a day and two hours' grace), once it has been served in production for that long. It resolves when a daily
-- backup succeeds. Measured: hours since the last succeeded daily backup, or since its first production instance.
create or replace function ops.advisory_rule_backup_missing(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select b.project_id, b.id, 'backup_missing', 'backup_missing:' || b.id, 'critical',
           'No daily backup of ' || b.name,
           format('Production branch %s has had no succeeded daily backup for %s hours (%s).', b.name, floor(w.hours),
                  coalesce('the last one: ' || to_char(w.last_ok at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), 'never one')),
           'Check that serve runs the backup_schedule job (GET /api/ops/jobs) and that the branch''s runner host is up and syncing; '
           || 'the Backups page shows each daily backup and why it did not succeed. Take a manual backup meanwhile.',
           w.hours
      from ops.branches b
     cross join lateral (
           select (select max(k.created_at) from ops.backups k
                    where k.branch_id = b.id and k.kind = 'daily' and k.status = 'succeeded') as last_ok,
                  (select min(i.created_at) from ops.instances i where i.branch_id = b.id and i.stage = 'production') as first_served) s
     cross join lateral (
           select s.last_ok, extract(epoch from now() - coalesce(s.last_ok, s.first_served)) / 3600 as hours) w
     where b.project_id = any (p_project_ids) and b.stage = 'production' and b.archived_at is null
       and exists (select 1 from ops.instances i where i.branch_id = b.id and i.is_current and i.retired_at is null)
       and s.first_served < now() - interval '26 hours'
       and coalesce(s.last_ok, '-infinity') < now() - interval '26 hours'
$$;
revoke all on function ops.advisory_rule_backup_missing(uuid[], jsonb) from public, ops_app, ops_service;
