-- ops.run_queue: Read-only for the app; written by the queue triggers and the runner functions.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.run_queue');
grant select on ops.run_queue to ops_app;

create policy run_queue_select on ops.run_queue
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
