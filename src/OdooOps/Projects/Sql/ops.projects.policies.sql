-- ops.projects: Readers read; org owner/admin create, update and delete; project admins update. Moving a project between
-- orgs is not granted (org_id is not in the update column list).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.projects');
grant select, insert, delete on ops.projects to ops_app;
grant update (name, slug, repo_url, runtime_version, archived_at, memory_limit_mb, runner_labels, build_network,
              dev_instance_ttl, max_dev_instances) on ops.projects to ops_app;

create policy projects_select on ops.projects
    for select to ops_app
    using (id in (select unnest(ops.visible_project_ids())));

-- Org owner/admin: create, update, delete. (FOR ALL also covers SELECT, but
-- only rows projects_select shows anyway.)
create policy projects_org_admin on ops.projects
    for all to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))))
    with check (org_id in (select unnest(ops.org_ids_with_role('admin'))));

-- Project admins (incl. project_members admins) may also update.
create policy projects_update on ops.projects
    for update to ops_app
    using (id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (id in (select unnest(ops.project_ids_with_role('admin'))));
