-- The row of a running task, locked, if this runner still holds this lease; SQLSTATE OOL01 (409) otherwise: another
-- runner's lease, one the rescuer took back, or a task already ended. As for builds, a lease past its time is still
-- held until the rescuer takes it back (a late heartbeat renews it; nothing else can run the task meanwhile).
create or replace function ops_private.held_task_lease(p_runner_id uuid, p_task_id uuid, p_lease_id uuid)
returns ops.runner_tasks
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.runner_tasks;
begin
    select * into v_row from ops.runner_tasks t
     where t.id = p_task_id and t.status = 'running' and t.leased_runner_id = p_runner_id and t.lease_id = p_lease_id
       for update;
    if not found then
        raise exception 'This runner no longer holds the lease of task %.', p_task_id using errcode = 'OOL01';
    end if;
    return v_row;
end
$$;
revoke all on function ops_private.held_task_lease(uuid, uuid, uuid) from public, ops_app, ops_service;
