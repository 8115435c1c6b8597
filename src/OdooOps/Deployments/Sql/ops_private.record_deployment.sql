-- The deployment of an instance: a release going live on its branch. Made 'deploying' when the instance is made (its
-- build, commit and who triggered it; a rollback's kind, the deployment it undoes and the backup restored with it), and
-- 'live' once the instance is its branch's current one (production at once, development and staging when the new
-- server answers): the branch's live deployment then ends, 'rolled_back' when this one undoes it, else 'superseded'.
-- Idempotent: called again for the same instance it only promotes. Development and staging switch without downtime
-- (the previous server answers until the new one does): switch_ms 0; production's is the downtime the runner reports.
create or replace function ops_private.record_deployment(p_instance_id uuid, p_kind text default 'build', p_rollback_of uuid default null,
                                                         p_created_by uuid default null, p_backup_id uuid default null)
returns uuid
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_instance  ops.instances;
    v_build     ops.builds;
    v_row       ops.deployments;
begin
    select * into strict v_instance from ops.instances i where i.id = p_instance_id;
    select * into v_row from ops.deployments d where d.instance_id = p_instance_id order by d.created_at desc limit 1 for update;
    if not found then
        select * into v_build from ops.builds b where b.id = v_instance.build_id;
        insert into ops.deployments (project_id, branch_id, build_id, stage, status, kind, instance_id, commit_sha, created_by,
                                     rollback_of, backup_id, started_at)
        values (v_instance.project_id, v_instance.branch_id, v_instance.build_id, v_instance.stage, 'deploying', p_kind, v_instance.id,
                v_build.commit_sha, case when p_kind = 'build' then coalesce(p_created_by, v_build.triggered_by) else p_created_by end,
                p_rollback_of, p_backup_id, case when p_kind = 'build' then coalesce(v_build.started_at, pg_catalog.now()) else pg_catalog.now() end)
        returning * into v_row;
    end if;
    if v_instance.is_current and v_row.status in ('deploying', 'failed') then
        update ops.deployments d
           set status = case when d.id = v_row.rollback_of then 'rolled_back' else 'superseded' end, ended_at = pg_catalog.now()
         where d.branch_id = v_instance.branch_id and d.status = 'live';
        update ops.deployments d
           set status = 'live', finished_at = pg_catalog.now(), ended_at = null, reason = null,
               switch_ms = case when v_instance.stage = 'production' then v_instance.downtime_ms else 0 end
         where d.id = v_row.id;
    end if;
    return v_row.id;
end
$$;
revoke all on function ops_private.record_deployment(uuid, text, uuid, uuid, uuid) from public, ops_app, ops_service;
