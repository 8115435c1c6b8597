-- ops.builds: Readers read. Nothing else: a build is queued by ops.trigger_build (who may build, the same commit
-- already queued, the queue cap, the audit row) and cancelled by ops.cancel_build, both SECURITY DEFINER; everything
-- else about a build is written by the runner functions. A direct insert or update by the request role would skip
-- those rules, so it has neither privilege.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.builds');
grant select on ops.builds to ops_app;

create policy builds_select on ops.builds
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
