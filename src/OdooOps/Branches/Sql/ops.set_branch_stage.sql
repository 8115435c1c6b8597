-- Moves a branch to another stage (the role ops.stage_move_role names; 42501 otherwise). Promotion to production
-- demotes the current production branch to staging in the same transaction. All the project's branches are locked
-- first so concurrent promotions serialize.
create or replace function ops.set_branch_stage(p_branch_id uuid, p_stage text)
returns ops.branches
language plpgsql
volatile
as $$
declare
    v_row      ops.branches;
    v_role     text;
    v_needed   text;
    v_project  uuid;
begin
    if p_stage is null or p_stage not in ('development', 'staging', 'production') then
        raise exception 'invalid stage "%": expected development, staging or production', p_stage
            using errcode = '22023';
    end if;

    select b.project_id into v_project from ops.branches b where b.id = p_branch_id;
    if not found then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;

    -- Serialize stage changes per project. FOR NO KEY UPDATE conflicts with
    -- itself (so two promotions queue up) but not with the KEY SHARE locks
    -- that concurrent build inserts take through their foreign key.
    perform 1
       from ops.branches b
      where b.project_id = v_project
      order by b.id
        for no key update of b;

    -- re-read after the lock: another promotion may have just committed
    select * into v_row from ops.branches b where b.id = p_branch_id;

    if v_row.archived_at is not null then
        raise exception 'branch % is archived', p_branch_id using errcode = '55000';
    end if;
    if v_row.stage = p_stage then
        return v_row;
    end if;

    if pg_catalog.row_security_active('ops.branches') then
        v_role := ops.project_role(v_project);
        v_needed := ops.stage_move_role(v_row.stage, p_stage);
        if ops.role_rank(v_role) < ops.role_rank(v_needed) then
            raise exception 'Your role (%) does not allow moving % from % to %.', coalesce(v_role, 'none'), v_row.name, v_row.stage, p_stage
                using errcode = '42501', hint = 'It needs the ' || v_needed || ' role.';
        end if;
    end if;

    if p_stage = 'production' then
        update ops.branches b
           set stage = 'staging', is_production = false
         where b.project_id = v_project
           and b.stage = 'production'
           and b.archived_at is null
           and b.id <> p_branch_id;
    end if;

    update ops.branches b
       set stage = p_stage, is_production = (p_stage = 'production')
     where b.id = p_branch_id
    returning * into v_row;
    if not found then
        raise exception 'not allowed to change the stage of branch %', p_branch_id using errcode = '42501';
    end if;
    return v_row;
end
$$;
revoke all on function ops.set_branch_stage(uuid, text) from public, ops_app, ops_service;
grant execute on function ops.set_branch_stage(uuid, text) to ops_app;
