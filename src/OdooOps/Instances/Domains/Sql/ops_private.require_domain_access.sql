-- The checks of every domain write, for a user's call (the owner and the service login are the database's own
-- callers): the branch must be in a project the user sees (else P0002, as if it did not exist) and ops.domain_refusal
-- must have nothing to say (else 42501 with its words).
create or replace function ops_private.require_domain_access(p_project_id uuid, p_branch_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_refusal text;
begin
    if not ops_private.is_request_session() then
        return;
    end if;
    if not exists (select 1 from ops.branches b
                    where b.id = p_branch_id and b.project_id = p_project_id
                      and p_project_id = any (ops.visible_project_ids())) then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;
    v_refusal := ops.domain_refusal(p_project_id, p_branch_id);
    if v_refusal is not null then
        raise exception '%', v_refusal using errcode = '42501';
    end if;
end
$$;
revoke all on function ops_private.require_domain_access(uuid, uuid) from public, ops_app, ops_service;
