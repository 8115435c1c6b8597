-- ops.env_vars: Developer+ read (tester/viewer see nothing), except production's secrets, which admin+ alone read
-- (developers write the code, the operator keeps production's credentials); admin+ write any stage, developer write
-- non-production stages.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.env_vars');
grant select, insert, delete on ops.env_vars to ops_app;
grant update (stage, name, value, is_secret) on ops.env_vars to ops_app;

create policy env_vars_select on ops.env_vars
    for select to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (not (is_secret and stage = 'production') and project_id in (select unnest(ops.project_ids_with_role('developer')))));

-- FOR ALL also grants SELECT, but only on rows the select policy shows anyway.
create policy env_vars_write on ops.env_vars
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin')))
                or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))));
