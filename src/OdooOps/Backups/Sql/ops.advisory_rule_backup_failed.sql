-- backup_failed (critical): the latest finished daily backup of a production branch failed. It resolves when a later
-- daily backup succeeds. Measured: daily backups in a row that failed.
create or replace function ops.advisory_rule_backup_failed(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select b.project_id, b.id, 'backup_failed', 'backup_failed:' || b.id, 'critical',
           'Daily backup of ' || b.name || ' failed',
           format('The daily backup of production branch %s queued at %s failed: %s. %s daily backup(s) in a row failed.', b.name,
                  to_char(lk.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), coalesce(lk.reason, 'no reason recorded'), streak.n),
           format('Read the backup''s task log (the Backups page, or odooops backups show %s) for the cause: the runner host, disk space, '
                  || 'the storage or the database. Fix it and take a manual backup (odooops backups create); the next daily one resolves this.', lk.id),
           streak.n
      from ops.branches b
     cross join lateral (
           select k.id, k.created_at, k.reason, k.status
             from ops.backups k
            where k.branch_id = b.id and k.kind = 'daily' and k.status in ('succeeded', 'failed')
            order by k.created_at desc limit 1) lk
     cross join lateral (
           select count(*)::double precision as n
             from ops.backups k
            where k.branch_id = b.id and k.kind = 'daily' and k.status = 'failed'
              and k.created_at > coalesce((select max(ok.created_at) from ops.backups ok
                                            where ok.branch_id = b.id and ok.kind = 'daily' and ok.status = 'succeeded'), '-infinity')) streak
     where b.project_id = any (p_project_ids) and b.stage = 'production' and b.archived_at is null
       and lk.status = 'failed'
$$;
revoke all on function ops.advisory_rule_backup_failed(uuid[], jsonb) from public, ops_app, ops_service;
