-- A failed production update that the runner undid by itself: it restored p_backup_id (the build's pre-deploy backup)
-- and started p_to_build_id's release again, whose deployment stays live. This records the failed release as a
-- deployment 'reverted' (what it went back to, with which backup) and says so in the build's detail: "reverted to build
-- …". Called by the runner API with the build's result, in its transaction, after ops.finish_build_job checked the
-- lease. What the runner names must be this branch's: another branch's build or backup is left out (recorded as
-- unknown), so a runner cannot make one tenant's history point at another's, and the result is still recorded.
create or replace function ops_private.record_reverted_deploy(p_build_id uuid, p_to_build_id uuid, p_backup_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_build  ops.builds;
    v_to     uuid;
    v_backup uuid;
    v_stage  text;
    v_id     uuid;
begin
    select * into v_build from ops.builds b where b.id = p_build_id for update;
    if not found or v_build.status <> 'failed' then
        raise exception 'Only a failed build is reverted (build % is %).', p_build_id, coalesce(v_build.status, 'unknown')
            using errcode = '22023', column = 'reverted';
    end if;
    v_stage := coalesce((select s.stage from ops_private.build_snapshots s where s.build_id = p_build_id),
                        (select br.stage from ops.branches br where br.id = v_build.branch_id));
    select b.id into v_to from ops.builds b where b.id = p_to_build_id and b.branch_id = v_build.branch_id;
    select k.id into v_backup from ops.backups k where k.id = p_backup_id and k.branch_id = v_build.branch_id;
    select d.id into v_id from ops.deployments d where d.build_id = p_build_id and d.status = 'reverted';
    if v_id is not null then
        return v_id; -- reported again: recorded once
    end if;
    insert into ops.deployments (project_id, branch_id, build_id, stage, status, kind, commit_sha, created_by, started_at, finished_at,
                                 ended_at, reverted_to_build_id, backup_id, reason)
    values (v_build.project_id, v_build.branch_id, p_build_id, v_stage, 'reverted', 'build', v_build.commit_sha, v_build.triggered_by,
            v_build.started_at, pg_catalog.now(), pg_catalog.now(), v_to, v_backup,
            pg_catalog.left(coalesce(nullif(v_build.result_detail, ''), 'the update failed'), 2000))
    returning id into v_id;
    if coalesce(v_build.result_detail, '') not like '%reverted to %' then
        update ops.builds b
           set result_detail = pg_catalog.left(coalesce(nullif(b.result_detail, '') || '; ', '')
                                               || 'reverted to ' || coalesce('build ' || v_to::text, 'the previous release'), 4000)
         where b.id = p_build_id;
    end if;
    return v_id;
end
$$;
revoke all on function ops_private.record_reverted_deploy(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops_private.record_reverted_deploy(uuid, uuid, uuid) to ops_service;
