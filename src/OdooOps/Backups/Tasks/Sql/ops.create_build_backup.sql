-- A production build's pre-deploy backup (POST jobs/{id}/backups), under the build's lease (OOL01 otherwise): a backup
-- row taken by the build itself (ops_private.queue_backup with the build, so no task), running at once on the build's
-- runner, of the branch's database there. Only a production build takes one (22023 otherwise: staging and development
-- start from copies). Asked again while the first is unfinished (an answer lost), the same backup is answered.
create or replace function ops.create_build_backup(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_kind text)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch  ops.branches;
    v_stage   text;
    v_id      uuid;
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    if coalesce(p_kind, 'pre-deploy') <> 'pre-deploy' then
        raise exception 'kind must be pre-deploy' using errcode = '22023', column = 'kind';
    end if;
    select br.* into v_branch from ops.builds b join ops.branches br on br.id = b.branch_id where b.id = p_build_id;
    v_stage := coalesce((select s.stage from ops_private.build_snapshots s where s.build_id = p_build_id), v_branch.stage);
    if v_stage <> 'production' then
        raise exception 'Only a production build takes a pre-deploy backup; this build is of % branch %.', v_stage, v_branch.name
            using errcode = '22023', column = 'kind';
    end if;
    select b.id into v_id from ops.backups b
     where b.build_id = p_build_id and b.kind = 'pre-deploy' and b.status in ('pending', 'running')
     order by b.created_at desc limit 1;
    if found then
        return v_id;
    end if;
    v_id := ops_private.queue_backup(v_branch.id, 'pre-deploy', null, p_build_id);
    update ops.backups b
       set status = 'running', started_at = pg_catalog.now(), runner_id = p_runner_id,
           database_name = coalesce((select i.database_name from ops.instances i
                                      where i.branch_id = v_branch.id and i.is_current and i.retired_at is null
                                        and i.runner_id = p_runner_id), b.database_name)
     where b.id = v_id and b.status = 'pending';
    return v_id;
end
$$;
revoke all on function ops.create_build_backup(uuid, uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.create_build_backup(uuid, uuid, uuid, text) to ops_service;
