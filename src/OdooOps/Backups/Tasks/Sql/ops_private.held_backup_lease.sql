-- The backup a runner may upload and report (PUT backups/{id}/artifact, POST backups/{id}/done), locked: the lease it
-- names is that of the running backup task taking it, or that of the running build that asked for it (a pre-deploy
-- backup, POST jobs/{id}/backups). SQLSTATE OOL01 (409) otherwise, whether or not the backup exists.
create or replace function ops_private.held_backup_lease(p_runner_id uuid, p_backup_id uuid, p_lease_id uuid)
returns ops.backups
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.backups;
begin
    select * into v_row from ops.backups b where b.id = p_backup_id for update;
    if found and (
        exists (select 1 from ops.runner_tasks t
                 where t.backup_id = p_backup_id and t.kind = 'backup' and t.status = 'running'
                   and t.leased_runner_id = p_runner_id and t.lease_id = p_lease_id)
        or exists (select 1 from ops.run_queue q
                    where q.build_id = v_row.build_id and q.state = 'leased' and q.lease_owner = p_runner_id
                      and q.lease_id = p_lease_id)) then
        return v_row;
    end if;
    raise exception 'This runner holds no lease that takes backup %.', p_backup_id using errcode = 'OOL01';
end
$$;
revoke all on function ops_private.held_backup_lease(uuid, uuid, uuid) from public, ops_app, ops_service;
