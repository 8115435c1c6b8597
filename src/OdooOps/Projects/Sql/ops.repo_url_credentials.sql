-- Credentials moved out of repo_urls by an upgrade and not yet encrypted (ops_private.repo_url_credentials): what `serve`
-- encrypts with its data-protection keys as it starts (ops.adopt_repo_url_credential). As ops_service.
create or replace function ops.repo_url_credentials()
returns table (project_id uuid, user_info text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.project_id, u.user_info from ops_private.repo_url_credentials u order by u.moved_at, u.project_id
$$;
revoke all on function ops.repo_url_credentials() from public, ops_app, ops_service;
grant execute on function ops.repo_url_credentials() to ops_service;
