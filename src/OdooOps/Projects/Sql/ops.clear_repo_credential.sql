-- Removes a project's repository credential (project admins): builds fetch without one from then on. Returns the kind
-- and user name removed; no row when there was none. A credential still waiting to move out of repo_url goes too.
create or replace function ops.clear_repo_credential(p_project_id uuid)
returns table (kind text, username text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.require_project_admin(p_project_id, 'Removing the repository credential');
    delete from ops_private.repo_url_credentials u where u.project_id = p_project_id;
    return query delete from ops_private.repo_credentials c where c.project_id = p_project_id returning c.kind, c.username;
end
$$;
revoke all on function ops.clear_repo_credential(uuid) from public, ops_app, ops_service;
grant execute on function ops.clear_repo_credential(uuid) to ops_app;
