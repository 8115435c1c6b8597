-- The organisation of a notification change the caller makes, after checking they may: an owner or admin of it.
-- P0002 when the caller is no member (it does not exist for them), 42501 below admin. p_what names the change.
create or replace function ops_private.require_notification_admin(p_org_id uuid, p_what text)
returns uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_role text := ops.org_role(p_org_id);
begin
    if v_role is null then
        raise exception 'No such organisation.' using errcode = 'P0002';
    end if;
    if ops.role_rank(v_role) < ops.role_rank('admin') then
        raise exception '% needs the admin role or higher in this organisation; you are %.', p_what, v_role using errcode = '42501';
    end if;
    return p_org_id;
end
$$;
revoke all on function ops_private.require_notification_admin(uuid, text) from public, ops_app, ops_service;
