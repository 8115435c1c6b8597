-- Stores the encrypted form (p_secret, ciphertext) of a credential moved out of the project's repo_url as its repository
-- credential (kind token), unless an admin set one meanwhile, and forgets the plaintext; audited as the system
-- (repo_credential.set, detail "moved out of repo_url", never the secret). True when it became the credential.
create or replace function ops.adopt_repo_url_credential(p_project_id uuid, p_user_info text, p_username text, p_secret text)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_org     uuid;
    v_adopted boolean;
begin
    -- Only the user information that is still waiting: a concurrent start (another replica) or an admin's change wins.
    delete from ops_private.repo_url_credentials u where u.project_id = p_project_id and u.user_info = p_user_info;
    if not found then
        return false;
    end if;
    insert into ops_private.repo_credentials (project_id, kind, username, secret)
    values (p_project_id, 'token', p_username, p_secret)
    on conflict (project_id) do nothing;
    v_adopted := found;
    if v_adopted then
        select p.org_id into v_org from ops.projects p where p.id = p_project_id;
        perform pg_catalog.set_config('ops.user_id', '', true);
        perform ops.write_audit('system', 'repo_credential.set', 'project', p_project_id::text, v_org, p_project_id, null,
            pg_catalog.jsonb_build_object('kind', 'token', 'username', p_username, 'detail', 'moved out of repo_url'));
    end if;
    return v_adopted;
end
$$;
revoke all on function ops.adopt_repo_url_credential(uuid, text, text, text) from public, ops_app, ops_service;
grant execute on function ops.adopt_repo_url_credential(uuid, text, text, text) to ops_service;
