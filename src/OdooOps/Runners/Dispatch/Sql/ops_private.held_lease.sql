-- The lease row of a build, locked, if this runner still holds this lease; SQLSTATE OOL01 otherwise.
create or replace function ops_private.held_lease(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns ops.run_queue
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.run_queue;
begin
    select * into v_row from ops.run_queue q
     where q.build_id = p_build_id and q.state = 'leased' and q.lease_owner = p_runner_id and q.lease_id = p_lease_id
       for update;
    if not found then
        raise exception 'This runner no longer holds the lease of build %.', p_build_id using errcode = 'OOL01';
    end if;
    return v_row;
end
$$;
revoke all on function ops_private.held_lease(uuid, uuid, uuid) from public, ops_app, ops_service;
