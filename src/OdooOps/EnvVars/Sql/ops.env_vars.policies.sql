-- ops.env_vars: Developer+ read (tester/viewer see nothing), except production's secrets, which admin+ alone read
-- (developers write the code, the operator keeps production's credentials); who may write a stage's variables is
-- ops.env_write_role's (admin+ production, developer+ the others). A secret's value is sealed by the server before it
-- gets here, and never sent back. Stage and name are not updatable: a sealed value opens only under the project,
-- stage and name it was sealed for, so a variable is removed and added again instead.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.env_vars');
grant select, insert, delete on ops.env_vars to ops_app;
grant update (value, sealed, is_secret) on ops.env_vars to ops_app;

create policy env_vars_select on ops.env_vars
    for select to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (not (is_secret and stage = 'production') and project_id in (select unnest(ops.project_ids_with_role('developer')))));

-- FOR ALL also grants SELECT, but only on rows the select policy shows anyway.
create policy env_vars_write on ops.env_vars
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (ops.env_write_role(stage) = 'developer' and project_id in (select unnest(ops.project_ids_with_role('developer')))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin')))
                or (ops.env_write_role(stage) = 'developer' and project_id in (select unnest(ops.project_ids_with_role('developer')))));
