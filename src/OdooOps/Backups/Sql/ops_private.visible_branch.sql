-- The branch a person's backup request names, locked (their requests on one branch serialize: the quota counts what
-- the others wrote), or P0002 when it does not exist or the caller cannot see its project; an archived one is 55000.
-- The owner and the system see every branch.
create or replace function ops_private.visible_branch(p_branch_id uuid)
returns ops.branches
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  ops.branches;
begin
    select * into v_branch from ops.branches b
     where b.id = p_branch_id and (not ops_private.is_request_session() or b.project_id = any (ops.visible_project_ids()))
       for no key update;
    if not found then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;
    if v_branch.archived_at is not null then
        raise exception 'Branch % is archived.', v_branch.name using errcode = '55000';
    end if;
    return v_branch;
end
$$;
revoke all on function ops_private.visible_branch(uuid) from public, ops_app, ops_service;
