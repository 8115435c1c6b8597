-- Creating a production branch succeeds only if the project has none
-- (unique index branches_one_production_idx).
create or replace function ops.create_branch(
    p_project_id uuid,
    p_name text,
    p_stage text default 'development')
returns ops.branches
language plpgsql
volatile
as $$
declare
    v_stage   text := coalesce(p_stage, 'development');
    v_role    text;
    v_needed  text;
    v_row     ops.branches;
begin
    if v_stage not in ('development', 'staging', 'production') then
        raise exception 'invalid stage "%": expected development, staging or production', v_stage
            using errcode = '22023';
    end if;

    if pg_catalog.row_security_active('ops.branches') then
        v_role := ops.project_role(p_project_id);
        if v_role is null then
            raise exception 'project % not found', p_project_id using errcode = 'P0002';
        end if;
        v_needed := ops.stage_move_role(null, v_stage); -- a new branch comes from no stage
        if ops.role_rank(v_role) < ops.role_rank(v_needed) then
            raise exception 'creating a % branch requires the % role (you are %)', v_stage, v_needed, v_role
                using errcode = '42501';
        end if;
    end if;

    insert into ops.branches (project_id, name, stage, is_production)
    values (p_project_id, p_name, v_stage, v_stage = 'production')
    returning * into v_row;
    return v_row;
end
$$;
revoke all on function ops.create_branch(uuid, text, text) from public, ops_app, ops_service;
grant execute on function ops.create_branch(uuid, text, text) to ops_app;
