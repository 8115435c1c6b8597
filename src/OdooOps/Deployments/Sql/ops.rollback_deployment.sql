-- A person's rollback: the branch goes back to the release of an earlier deployment (p_deployment_id), restarted from the
-- folder its runner still keeps, on the branch's database as it is now. A new instance of that build on the current
-- instance's runner and database: production's is current at once (the current one stops, its database kept), as a
-- production release is; development and staging switch once it answers (ops.sync_runner_instances). Its deployment
-- (kind 'rollback', rollback_of the live one) goes live then, and the live one becomes 'rolled_back'.
-- With p_backup_id (a succeeded backup of the branch, e.g. the pre-deploy backup of the deployment undone), the database
-- is restored too: ops_private.queue_restore queues it on the branch's host.
-- Refusals, before anything changes: ops.rollback_refusal's (unknown P0002, the role 42501, the state 55000, in words),
-- then a backup that is not a succeeded one of this branch (22023 naming backup_id). The audit row is the caller's
-- (DeploymentRollback). SECURITY DEFINER: the request role may only read deployments and instances; a user's call is
-- checked here (ops_private.is_request_session).
create or replace function ops.rollback_deployment(p_deployment_id uuid, p_backup_id uuid default null)
returns table (deployment_id uuid, undone_id uuid, instance_id uuid, restore_task_id uuid)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_user      boolean := ops_private.is_request_session();
    v_target    ops.deployments;
    v_branch    ops.branches;
    v_project   ops.projects;
    v_live      ops.deployments;
    v_current   ops.instances;
    v_code      text;
    v_message   text;
    v_instance  uuid;
    v_id        uuid;
    v_task      uuid;
begin
    select r.code, r.message into v_code, v_message from ops.rollback_refusal(p_deployment_id) r;
    if v_code is not null then
        raise exception '%', v_message using errcode = v_code;
    end if;
    select * into strict v_target from ops.deployments d where d.id = p_deployment_id;
    -- Locked in the order a release and a switch take them: the branch, its current instance, then the deployments.
    select * into strict v_branch from ops.branches b where b.id = v_target.branch_id for update;
    select * into strict v_project from ops.projects p where p.id = v_target.project_id;
    select * into strict v_current from ops.instances i where i.branch_id = v_branch.id and i.is_current for update;
    select * into strict v_live from ops.deployments d where d.branch_id = v_branch.id and d.status = 'live' for update;
    if p_backup_id is not null and not exists (select 1 from ops.backups k where k.id = p_backup_id and k.branch_id = v_branch.id
                                                  and k.status = 'succeeded' and k.deleted_at is null) then
        raise exception '%', pg_catalog.format('backup_id must be a succeeded backup of %s.', v_branch.name)
            using errcode = '22023', column = 'backup_id';
    end if;

    if v_current.stage = 'production' then
        update ops.instances i
           set is_current = false, desired = 'stopped', retired_at = pg_catalog.now(), drop_database = false,
               reason = 'rolled back to build ' || v_target.build_id::text
         where i.id = v_current.id;
    end if;
    insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, is_current, replaces_id,
                               drop_database, expires_at)
    values (v_current.project_id, v_current.branch_id, v_target.build_id, v_current.runner_id, v_current.stage, v_current.database_name,
            v_current.stage = 'production', v_current.id, v_current.stage <> 'production',
            case when v_current.stage = 'development' then pg_catalog.now() + v_project.dev_instance_ttl end)
    returning id into v_instance;
    v_id := ops_private.record_deployment(v_instance, 'rollback', v_live.id, ops.current_user_id(), p_backup_id);
    if p_backup_id is not null then
        v_task := ops_private.queue_restore(p_backup_id, v_branch.id, ops.current_user_id());
    end if;
    perform pg_catalog.pg_notify('instance_actions', v_current.runner_id::text);
    return query select v_id, v_live.id, v_instance, v_task;
end
$$;
revoke all on function ops.rollback_deployment(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.rollback_deployment(uuid, uuid) to ops_app;
