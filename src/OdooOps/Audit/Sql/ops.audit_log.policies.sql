-- ops.audit_log: Org owner/admin read; any signed-in user appends entries about themself, and only into the logs of
-- orgs/projects they can see (an entry naming another tenant's org or project would land in that tenant's log).
-- No update/delete grants: append-only. (Insert without RETURNING: a non-admin cannot read back the row it wrote.)
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.audit_log');
grant select on ops.audit_log to ops_app;
grant insert (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip) on ops.audit_log to ops_app;

create policy audit_log_select on ops.audit_log
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))));

create policy audit_log_insert on ops.audit_log
    for insert to ops_app
    with check (actor_user_id is not null
                and actor_user_id = (select ops.active_user_id())
                and (project_id is null or project_id in (select unnest(ops.visible_project_ids())))
                and (org_id is null
                     or org_id in (select unnest(ops.visible_org_ids()))
                     -- a project-only member may name the org of their project (RLS on projects applies)
                     or exists (select 1 from ops.projects p
                                 where p.id = audit_log.project_id and p.org_id = audit_log.org_id)));
