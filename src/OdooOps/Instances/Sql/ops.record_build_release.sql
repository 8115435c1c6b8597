-- A successful build's checkout is kept by its runner as a release (releases/<build id>) whose Odoo server the runner
-- starts and supervises: this records the instance. Called with the lease still held, just before the build's result.
-- Production: the new instance is current at once (the runner stopped the old server before the update); the old one
-- is retired, its release kept for a rollback, its database the branch's own. Development and staging: the new one
-- becomes current once it runs (ops.sync_runner_instances); a development instance expires after the project's TTL,
-- and beyond the project's maximum the oldest development instances are retired. A production or staging branch is
-- pinned to this runner (its filestore lives here) unless already pinned. Host labels are given on first use: the
-- project's is unique across organisations (its slug, or the slug and a piece of its id when taken). The release's
-- deployment is recorded with it (ops_private.record_deployment): live at once on production, the branch's previous
-- live one superseded; deploying on development and staging until the switch.
create or replace function ops.record_build_release(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_database_name text)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_build    ops.builds;
    v_branch   ops.branches;
    v_project  ops.projects;
    v_stage    text;
    v_current  ops.instances;
    v_id       uuid;
    v_label    text;
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    if p_database_name is null or p_database_name !~ '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$' then
        raise exception 'database_name must be 1 to 63 letters, digits, "_", "." or "-"' using errcode = '22023', column = 'database_name';
    end if;
    select * into v_build from ops.builds b where b.id = p_build_id;
    select * into v_branch from ops.branches br where br.id = v_build.branch_id for update;
    select * into v_project from ops.projects p where p.id = v_build.project_id for update;
    -- A runner marked as serving no instances (builds only) gets none, nor an archived branch; the release the runner
    -- kept is then not among the ones it keeps, and goes at its next sync.
    if v_branch.archived_at is not null or v_project.archived_at is not null
       or not (select r.serves_instances from ops.runners r where r.id = p_runner_id) then
        return null;
    end if;
    if exists (select 1 from ops.instances i where i.build_id = p_build_id) then
        return (select i.id from ops.instances i where i.build_id = p_build_id);
    end if;
    v_stage := coalesce((select s.stage from ops_private.build_snapshots s where s.build_id = p_build_id), v_branch.stage);

    if v_project.host_label is null then
        v_label := nullif(ops_private.host_label(v_project.slug), '');
        if v_label is null or exists (select 1 from ops.projects p where p.host_label = v_label) then
            v_label := ops_private.host_label(coalesce(v_label, 'p'), 54) || '-' || pg_catalog.left(pg_catalog.replace(v_project.id::text, '-', ''), 8);
        end if;
        update ops.projects p set host_label = v_label where p.id = v_project.id;
    end if;
    if v_branch.host_label is null then
        v_label := nullif(ops_private.host_label(v_branch.name), '');
        if v_label is null or exists (select 1 from ops.branches b where b.project_id = v_branch.project_id and b.host_label = v_label) then
            v_label := ops_private.host_label(coalesce(v_label, 'b'), 54) || '-' || pg_catalog.left(pg_catalog.replace(v_branch.id::text, '-', ''), 8);
        end if;
        update ops.branches b set host_label = v_label where b.id = v_branch.id;
    end if;
    if v_stage in ('production', 'staging') and v_branch.runner_id is null then
        update ops.branches b set runner_id = p_runner_id where b.id = v_branch.id;
    end if;

    select * into v_current from ops.instances i where i.branch_id = v_branch.id and i.is_current for update;
    if v_stage = 'production' and v_current.id is not null then
        update ops.instances i
           set is_current = false, desired = 'stopped', retired_at = pg_catalog.now(), drop_database = false,
               reason = coalesce(i.reason, 'superseded by build ' || p_build_id::text)
         where i.id = v_current.id;
    end if;
    insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, is_current, replaces_id,
                               drop_database, expires_at)
    values (v_build.project_id, v_branch.id, p_build_id, p_runner_id, v_stage, p_database_name,
            v_stage = 'production' or v_current.id is null, v_current.id,
            v_stage <> 'production',
            case when v_stage = 'development' then pg_catalog.now() + v_project.dev_instance_ttl end)
    returning id into v_id;
    perform ops_private.record_deployment(v_id);

    if v_stage = 'development' then
        -- The oldest development instances of the project beyond its maximum stop now.
        update ops.instances i
           set desired = 'stopped', retired_at = pg_catalog.now(), is_current = false,
               reason = 'stopped: the project keeps at most ' || v_project.max_dev_instances || ' development instances'
         where i.id in (select d.id from ops.instances d
                         where d.project_id = v_project.id and d.stage = 'development' and d.retired_at is null
                         order by d.created_at desc
                        offset greatest(v_project.max_dev_instances, 1));
    end if;
    return v_id;
end
$$;
revoke all on function ops.record_build_release(uuid, uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.record_build_release(uuid, uuid, uuid, text) to ops_service;
