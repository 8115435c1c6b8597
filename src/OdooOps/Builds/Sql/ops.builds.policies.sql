-- ops.builds: Readers read. Insert only as 'queued', by developer+ (tester on non-production branches, ops.can_build), for
-- oneself. Update (cancel) under the same rule, only while queued/running, and only to a queued/running/cancelled
-- state; everything else about a build is written by the runner functions.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.builds');
grant select on ops.builds to ops_app;
grant insert (id, project_id, branch_id, trigger, commit_sha, commit_message, triggered_by) on ops.builds to ops_app;
grant update (status, cancel_requested_at, finished_at) on ops.builds to ops_app;

create policy builds_select on ops.builds
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy builds_insert on ops.builds
    for insert to ops_app
    with check (status = 'queued'
                and (triggered_by is null or triggered_by = (select ops.current_user_id()))
                and ops.can_build(project_id, branch_id));

create policy builds_update on ops.builds
    for update to ops_app
    using (status in ('queued', 'running') and ops.can_build(project_id, branch_id))
    with check (status in ('queued', 'running', 'cancelled') and ops.can_build(project_id, branch_id));
