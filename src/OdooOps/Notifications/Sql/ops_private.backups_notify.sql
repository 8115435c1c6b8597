-- A backup that failed (backup.failed) or whose verification failed (backup.verification_failed: the restore that
-- proves it did not) is announced.
create or replace function ops_private.backups_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch   text := coalesce((select b.name from ops.branches b where b.id = new.branch_id), 'a branch');
    v_kind     text := coalesce(new.kind, 'a');
    v_subject  jsonb := pg_catalog.jsonb_build_object(
        'id', new.id, 'kind', new.kind, 'status', new.status, 'reason', new.reason, 'verification', new.verification,
        'verification_reason', new.verification_reason, 'size_bytes', new.size_bytes, 'build_id', new.build_id,
        'created_at', new.created_at, 'finished_at', new.finished_at, 'verified_at', new.verified_at);
begin
    if new.status = 'failed' and old.status is distinct from 'failed' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'backup.failed', null,
            v_kind || ' backup of ' || v_branch || ' failed' || coalesce(': ' || pg_catalog.left(new.reason, 200), ''), 'backup', v_subject, null);
    end if;
    if new.verification = 'failed' and old.verification is distinct from 'failed' then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'backup.verification_failed', null,
            v_kind || ' backup of ' || v_branch || ' could not be verified' || coalesce(': ' || pg_catalog.left(new.verification_reason, 200), ''),
            'backup', v_subject, null);
    end if;
    return null;
end
$$;
revoke all on function ops_private.backups_notify() from public, ops_app, ops_service;
