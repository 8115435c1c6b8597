-- Raises the words of a refused backup action (42501) when the acting user may not touch this branch's backups
-- (ops.can_manage_backups); a call that is not a user's (the owner, the system) passes. p_what: "Backing up",
-- "Restoring into", "Verifying a backup of", ….
create or replace function ops_private.backup_refusal(p_branch ops.branches, p_what text)
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if ops_private.is_request_session() and not ops.can_manage_backups(p_branch.project_id, p_branch.id) then
        raise exception '%', pg_catalog.format('%s the %s branch %s needs the %s role or higher; you are %s.', p_what, p_branch.stage,
                p_branch.name, ops.backup_role(p_branch.stage), coalesce(ops.project_role(p_branch.project_id), 'no member'))
            using errcode = '42501';
    end if;
end
$$;
revoke all on function ops_private.backup_refusal(ops.branches, text) from public, ops_app, ops_service;
