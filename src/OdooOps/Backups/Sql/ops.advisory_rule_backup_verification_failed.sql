-- backup_verification_failed (critical on production, warning elsewhere): the newest backup of a branch whose
-- verification finished failed it (restored into a scratch database, it did not check out), pruned or not. It resolves
-- when a later backup of the branch is verified. Measured: verifications in a row that failed.
create or replace function ops.advisory_rule_backup_verification_failed(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select b.project_id, b.id, 'backup_verification_failed', 'backup_verification_failed:' || b.id,
           case when b.stage = 'production' then 'critical' else 'warning' end,
           'Backup of ' || b.name || ' failed verification',
           format('The %s backup of %s taken at %s could not be proven restorable: %s. %s backup(s) in a row failed verification.', lv.kind, b.name,
                  to_char(lv.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), coalesce(lv.verification_reason, 'no reason recorded'), streak.n),
           format('Read the verify task''s log (the Backups page, or odooops backups show %s): a corrupted file, a dump that does not restore, '
                  || 'or a filestore that does not match its manifest. Do not rely on this backup; take a new one and verify it.', lv.id),
           streak.n
      from ops.branches b
     cross join lateral (
           select k.id, k.kind, k.created_at, k.verification, k.verification_reason
             from ops.backups k
            where k.branch_id = b.id and k.verification in ('verified', 'failed')
            order by k.created_at desc limit 1) lv
     cross join lateral (
           select count(*)::double precision as n
             from ops.backups k
            where k.branch_id = b.id and k.verification = 'failed'
              and k.created_at > coalesce((select max(ok.created_at) from ops.backups ok
                                            where ok.branch_id = b.id and ok.verification = 'verified'), '-infinity')) streak
     where b.project_id = any (p_project_ids) and b.archived_at is null
       and lv.verification = 'failed'
$$;
revoke all on function ops.advisory_rule_backup_verification_failed(uuid[], jsonb) from public, ops_app, ops_service;
