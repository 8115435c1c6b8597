-- What a branch runs now, the one answer for a production update's plan (the runner's build, the server's dry run,
-- the pre-deploy backup's decision):
--   modules:  what the branch's DATABASE holds, as (name, version): those of its last successful build, unless a
--             backup was restored into the branch since (a restore, or a rollback with its backup), then the modules
--             that backup recorded as installed. An update compares the commit's manifests with these, so after a
--             restore of an older backup the modules it rolled back are updated again.
--   build_id, requirements_sha256: the release that runs (the live deployment's build, else the last successful
--             build): its requirements.txt digest is what the host's environment was made from.
-- p_except_build: the build asking (not its own baseline). Nothing known: all null.
create or replace function ops_private.branch_deployed_state(p_branch_id uuid, p_except_build uuid)
returns table (build_id uuid, modules jsonb, requirements_sha256 text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_last     ops.builds;
    v_release  ops.builds;
    v_restored jsonb;
begin
    select * into v_last from ops.builds b
     where b.branch_id = p_branch_id and b.id is distinct from p_except_build and b.status in ('success', 'warning')
       and b.modules is not null
     order by b.finished_at desc nulls last
     limit 1;
    select b.* into v_release from ops.deployments d join ops.builds b on b.id = d.build_id
     where d.branch_id = p_branch_id and d.status = 'live' and b.id is distinct from p_except_build;
    if v_release.id is null then
        v_release := v_last;
    end if;
    select k.modules into v_restored
      from ops.runner_tasks t join ops.backups k on k.id = t.backup_id
     where t.branch_id = p_branch_id and t.kind = 'restore' and t.status = 'succeeded' and k.modules is not null
       and (v_last.finished_at is null or t.finished_at > v_last.finished_at)
     order by t.finished_at desc
     limit 1;
    build_id := v_release.id;
    requirements_sha256 := v_release.requirements_sha256;
    -- A restored backup's list holds every module with its state: only the installed ones are in the database.
    if v_restored is not null then
        v_restored := coalesce((select pg_catalog.jsonb_agg(m.value) from pg_catalog.jsonb_array_elements(v_restored) m
                                 where m.value ->> 'state' = 'installed'), '[]'::jsonb);
    end if;
    if coalesce(v_restored, v_last.modules) is not null then
        modules := coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', m.value ->> 'name', 'version', m.value ->> 'version')
                                                         order by m.value ->> 'name')
                               from pg_catalog.jsonb_array_elements(coalesce(v_restored, v_last.modules)) m), '[]'::jsonb);
    end if;
    return next;
end
$$;
revoke all on function ops_private.branch_deployed_state(uuid, uuid) from public, ops_app, ops_service;
