-- A person's start, stop or restart of an instance: what they ask for (desired, restart_generation), which the
-- instance's runner carries out at its next sync. start: desired 'running' (on a failed instance also a fresh attempt:
-- restart_generation + 1); stop: desired 'stopped'; restart: restart_generation + 1 and desired 'running'.
-- Unknown or invisible instance: P0002. Not allowed (ops.can_manage_instance): 42501 in words. Retired (stopped for
-- good): 55000. A request that changes something writes its instance.<action> audit row and wakes the runner's sync
-- (NOTIFY instance_actions, payload the runner id); one that changes nothing (stop of a stopped one) writes neither.
-- SECURITY DEFINER: the request role may only read ops.instances (a direct update could rewrite what the runner
-- reports), so a user's call is checked here (ops_private.is_request_session).
create or replace function ops.request_instance_action(p_instance_id uuid, p_action text, p_ip inet default null)
returns ops.instances
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user        boolean := ops_private.is_request_session();
    v_row         ops.instances;
    v_branch      ops.branches;
    v_desired     text;
    v_was         text;
    v_generation  int;
    v_needed      text;
    v_org         uuid;
begin
    if p_action is null or p_action not in ('start', 'stop', 'restart') then
        raise exception 'action must be start, stop or restart (got %)', coalesce(p_action, 'null') using errcode = '22023';
    end if;
    select * into v_row from ops.instances i
     where i.id = p_instance_id and (not v_user or i.project_id = any (ops.visible_project_ids()))
       for update;
    if not found then
        raise exception 'instance % not found', p_instance_id using errcode = 'P0002';
    end if;
    select * into v_branch from ops.branches b where b.id = v_row.branch_id;

    if v_user and not ops.can_manage_instance(v_row.project_id, v_row.branch_id, v_row.stage) then
        v_needed := case when ops.role_rank(ops.build_role(v_branch.stage)) > ops.role_rank(ops.build_role(v_row.stage))
                         then ops.build_role(v_branch.stage) else ops.build_role(v_row.stage) end;
        raise exception '%', pg_catalog.format('%s the %s instance of %s needs the %s role or higher; you are %s.',
                case p_action when 'start' then 'Starting' when 'stop' then 'Stopping' else 'Restarting' end,
                case when 'production' in (v_row.stage, v_branch.stage) then 'production' else v_row.stage end,
                v_branch.name, v_needed, coalesce(ops.project_role(v_row.project_id), 'no member'))
            using errcode = '42501';
    end if;
    if v_row.retired_at is not null then
        raise exception '%', pg_catalog.format(
                'This instance of %s was retired on %s (replaced by a newer release, expired or removed): it is stopped for good and cannot be %s. Build the branch again for a new instance.',
                v_branch.name, pg_catalog.to_char(v_row.retired_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                case p_action when 'start' then 'started' when 'stop' then 'stopped' else 'restarted' end)
            using errcode = '55000';
    end if;

    v_desired := case p_action when 'stop' then 'stopped' else 'running' end;
    v_generation := v_row.restart_generation
                    + case when p_action = 'restart' or (p_action = 'start' and v_row.state = 'failed') then 1 else 0 end;
    if v_desired = v_row.desired and v_generation = v_row.restart_generation then
        return v_row;
    end if;

    v_was := v_row.desired;
    update ops.instances i set desired = v_desired, restart_generation = v_generation
     where i.id = p_instance_id
    returning * into strict v_row;
    select p.org_id into v_org from ops.projects p where p.id = v_row.project_id;
    perform ops.write_audit(case when v_user then 'user' else 'system' end, 'instance.' || p_action, 'instance', p_instance_id::text,
                            v_org, v_row.project_id,
                            pg_catalog.jsonb_build_object('state', v_row.state, 'desired', v_was),
                            pg_catalog.jsonb_build_object('desired', v_row.desired, 'restart_generation', v_row.restart_generation,
                                                          'branch', v_branch.name, 'stage', v_row.stage),
                            p_ip);
    if v_row.runner_id is not null then
        perform pg_catalog.pg_notify('instance_actions', v_row.runner_id::text);
    end if;
    return v_row;
end
$$;
revoke all on function ops.request_instance_action(uuid, text, inet) from public, ops_app, ops_service;
grant execute on function ops.request_instance_action(uuid, text, inet) to ops_app;
