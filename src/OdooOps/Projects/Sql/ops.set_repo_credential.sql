-- Sets a project's repository credential (project admins), replacing any other at once, and returns when, with the kind
-- and user name it replaced (for the audit row). p_secret is ciphertext: the server encrypts before calling. A
-- credential moved out of the project's repo_url and not yet encrypted is dropped: this one is what the admin meant.
create or replace function ops.set_repo_credential(p_project_id uuid, p_kind text, p_username text, p_secret text)
returns table (set_at timestamptz, before_kind text, before_username text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    perform ops_private.require_project_admin(p_project_id, 'Setting the repository credential');
    if p_kind is null or p_kind not in ('token', 'ssh_key') or p_secret is null or p_secret = ''
       or (p_username is not null and p_kind <> 'token') then
        raise exception 'a repository credential is a token (with an optional user name) or an ssh_key' using errcode = '22023';
    end if;
    select c.kind, c.username into before_kind, before_username
      from ops_private.repo_credentials c where c.project_id = p_project_id for update;
    insert into ops_private.repo_credentials as c (project_id, kind, username, secret, set_at, set_by)
    values (p_project_id, p_kind, p_username, p_secret, pg_catalog.clock_timestamp(), ops.current_user_id())
    on conflict (project_id) do update
        set kind = excluded.kind, username = excluded.username, secret = excluded.secret, set_at = excluded.set_at, set_by = excluded.set_by
    returning c.set_at into set_at;
    delete from ops_private.repo_url_credentials u where u.project_id = p_project_id;
    return next;
end
$$;
revoke all on function ops.set_repo_credential(uuid, text, text, text) from public, ops_app, ops_service;
grant execute on function ops.set_repo_credential(uuid, text, text, text) to ops_app;
