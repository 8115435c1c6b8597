-- ops.branches: Developer+ create/update non-production branches; anything touching production (old or new row) needs
-- admin+; delete needs admin+. The host pin (runner_id) is written by ops.set_branch_runner only (org owner/admin, an
-- eligible runner), and the host label by the first instance (ops.record_build_release): neither insert nor update
-- grants them.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.branches');
grant select, delete on ops.branches to ops_app;
grant insert (id, project_id, name, stage, is_production, archived_at, created_at, updated_at,
              instance_workers, instance_cron_threads, instance_memory_mb, instance_cpus) on ops.branches to ops_app;
grant update (name, stage, is_production, archived_at,
              instance_workers, instance_cron_threads, instance_memory_mb, instance_cpus) on ops.branches to ops_app;

create policy branches_select on ops.branches
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

-- Insert/update/delete. For UPDATE, USING sees the old row and WITH CHECK the
-- new one, so production on either side needs admin.
create policy branches_write on ops.branches
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin')))
                or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))));

-- Restrictive (ANDed with the above): deleting any branch needs admin+.
create policy branches_delete_admin on ops.branches
    as restrictive
    for delete to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))));
