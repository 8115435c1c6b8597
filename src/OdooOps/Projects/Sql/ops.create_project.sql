-- Creates a project; a null slug is made from the name, a null version is the organisation's default Odoo version.
-- Invoker: the projects_org_admin policy decides who may.
create or replace function ops.create_project(
    p_org_id uuid,
    p_name text,
    p_slug text,
    p_repo_url text,
    p_runtime_version text default null)
returns ops.projects
language sql
volatile
as $$
    -- a null slug is derived from the name; the RLS insert policy decides who may do this
    insert into ops.projects (org_id, name, slug, repo_url, runtime_version)
    values (p_org_id, p_name, coalesce(p_slug, ops.slugify(p_name)), p_repo_url,
            coalesce(p_runtime_version, (select o.default_odoo_version from registry.orgs o where o.id = p_org_id), '19.0'))
    returning *
$$;
revoke all on function ops.create_project(uuid, text, text, text, text) from public, ops_app, ops_service;
grant execute on function ops.create_project(uuid, text, text, text, text) to ops_app;
