-- Pins a production or staging branch to the runner host its instance lives on (its filestore is there): the branch's
-- next deploy builds on that runner. Org owners and admins only (42501); a branch the caller cannot see, or an archived
-- one, is P0002; a development branch is 55000 (its instances go to any runner that serves instances); a runner
-- ops_private.runner_host_refusal refuses is 22023 naming the column runner_id. The runner's row is locked first, so
-- two moves to the last free place serialize. The instance itself is not moved. Answers the runner pinned before.
create or replace function ops.set_branch_runner(p_project_id uuid, p_branch_id uuid, p_runner_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch   ops.branches;
    v_org      uuid;
    v_role     text;
    v_refusal  text;
begin
    if ops.project_role(p_project_id) is null then
        raise exception 'No such branch.' using errcode = 'P0002';
    end if;
    select * into v_branch from ops.branches b
     where b.id = p_branch_id and b.project_id = p_project_id and b.archived_at is null
       for no key update;
    if not found then
        raise exception 'No such branch.' using errcode = 'P0002';
    end if;
    select p.org_id into v_org from ops.projects p where p.id = p_project_id;
    v_role := ops.org_role(v_org);
    if ops.role_rank(v_role) < ops.role_rank('admin') then
        raise exception 'Moving a branch to another host needs the owner or admin role in the organisation; you are %.',
              coalesce(v_role || ' there', 'not a member of it') using errcode = '42501';
    end if;
    if v_branch.stage = 'development' then
        raise exception 'Only production and staging branches are pinned to a host: development instances go to any runner that serves instances.'
              using errcode = '55000';
    end if;
    if v_branch.runner_id is not distinct from p_runner_id then
        return v_branch.runner_id;
    end if;
    perform 1 from ops.runners r where r.id = p_runner_id for no key update;
    v_refusal := ops_private.runner_host_refusal(p_branch_id, p_runner_id);
    if v_refusal is not null then
        raise exception '%', v_refusal using errcode = '22023', column = 'runner_id';
    end if;
    update ops.branches b set runner_id = p_runner_id where b.id = p_branch_id;
    return v_branch.runner_id;
end
$$;
revoke all on function ops.set_branch_runner(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.set_branch_runner(uuid, uuid, uuid) to ops_app;
