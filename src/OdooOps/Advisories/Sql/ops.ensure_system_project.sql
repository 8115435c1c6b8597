-- Idempotent. Should an org already use the slug, the slug trigger picks the next free one (odooops-system-2).
create or replace function ops.ensure_system_project() returns void language sql volatile set search_path = pg_catalog, pg_temp
as $$
    insert into registry.orgs (id, name, slug)
    select ops.system_org_id(), 'OdooOps system',
           case when exists (select 1 from registry.orgs o where o.slug = 'odooops-system') then null else 'odooops-system' end
    on conflict (id) do nothing;
    insert into ops.projects (id, org_id, name, slug, repo_url)
    values (ops.system_project_id(), ops.system_org_id(), 'OdooOps', 'odooops', 'builtin:odooops')
    on conflict (id) do nothing;
$$;
revoke all on function ops.ensure_system_project() from public, ops_app, ops_service;
