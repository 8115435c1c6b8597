-- ops.env_stage_changes: when each stage's variables last changed, read by those who read the variables (developer+);
-- written only by the env_vars_stamp trigger.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.env_stage_changes');
grant select on ops.env_stage_changes to ops_app;

create policy env_stage_changes_select on ops.env_stage_changes
    for select to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('developer'))));
