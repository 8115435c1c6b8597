-- Projects the acting user may see (any role, from the org or the project): the read policies of project-scoped rows.
create or replace function ops.visible_project_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select ops.project_ids_with_role('viewer')
$$;
revoke all on function ops.visible_project_ids() from public, ops_app, ops_service;
grant execute on function ops.visible_project_ids() to ops_app;
