-- Whether an e-mail channel of p_org_id may send to p_address through the server's own SMTP server (the operator's,
-- whose reputation it is): an address of one of the organisation's active members (of the organisation or of one of
-- its projects), or at one of the domains the operator allows (OPS_NOTIFY_EMAIL_DOMAINS; '*' allows any). Organisation
-- admins cannot make the server mail arbitrary addresses; a channel with its own SMTP server may name anyone.
create or replace function ops_private.notification_recipient_allowed(p_org_id uuid, p_address text, p_domains text[])
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select '*' = any (coalesce(p_domains, '{}'))
        or pg_catalog.lower(pg_catalog.split_part(p_address, '@', 2)) = any (coalesce(p_domains, '{}'))
        or exists (
            select 1 from registry.users u
             where pg_catalog.lower(u.email) = pg_catalog.lower(p_address) and u.is_active
               and (exists (select 1 from registry.org_members m where m.user_id = u.id and m.org_id = p_org_id)
                    or exists (select 1 from ops.project_members pm join ops.projects p on p.id = pm.project_id
                                where pm.user_id = u.id and p.org_id = p_org_id)))
$$;
revoke all on function ops_private.notification_recipient_allowed(uuid, text, text[]) from public, ops_app, ops_service;
