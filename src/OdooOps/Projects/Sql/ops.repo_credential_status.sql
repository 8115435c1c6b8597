-- A project's repository credential as its admins may see it: the kind, the user name and when it was set — never the
-- secret. One row, all null when there is none. 42501 below the admin role, P0002 for a project the caller cannot see.
create or replace function ops.repo_credential_status(p_project_id uuid)
returns table (kind text, username text, set_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.require_project_admin(p_project_id, 'Seeing the repository credential');
    return query
        select c.kind, c.username, c.set_at
          from (select 1) one
          left join ops_private.repo_credentials c on c.project_id = p_project_id;
end
$$;
revoke all on function ops.repo_credential_status(uuid) from public, ops_app, ops_service;
grant execute on function ops.repo_credential_status(uuid) to ops_app;
