-- Removes an organisation's notification channel (org owners and admins) with its secret and delivery log; the
-- advisories saying it was failing resolve. Answers the removed channel's name and kind; P0002 when there is none.
create or replace function ops.delete_notification_channel(p_org_id uuid, p_channel_id uuid)
returns table (name text, kind text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.require_notification_admin(p_org_id, 'Removing notification channels');
    return query delete from ops.notification_channels c where c.id = p_channel_id and c.org_id = p_org_id returning c.name, c.kind;
    if not found then
        raise exception 'No such notification channel.' using errcode = 'P0002';
    end if;
    perform ops_private.notification_channel_advisories(p_channel_id, false);
end
$$;
revoke all on function ops.delete_notification_channel(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.delete_notification_channel(uuid, uuid) to ops_app;
