-- Creates (p_channel_id null) or replaces an organisation's notification channel (org owners and admins; the host's
-- NotificationChannels checked the fields and wrote the ciphertext). p_secret: the ciphertext of the webhook's signing
-- secret, the Slack webhook's URL or the SMTP password; null keeps the one set, '' removes it (a new channel needs one
-- unless it is e-mail). A channel keeps its kind. Projects must be the organisation's (22023 naming
-- project_ids). An e-mail channel on the server's own SMTP server may name only recipients
-- ops_private.notification_recipient_allowed lets it (members, p_email_domains; 22023 naming recipients). Disabling a
-- channel ends its pending deliveries (failed: "channel disabled") and resolves its advisories. Locks the channel before
-- its deliveries, as every writer of both does. Answers the channel's id.
create or replace function ops.save_notification_channel(p_org_id uuid, p_channel_id uuid, p_name text, p_kind text, p_target text,
    p_smtp_host text, p_smtp_port int, p_smtp_tls text, p_smtp_username text, p_smtp_from text,
    p_events text[], p_project_ids uuid[], p_min_severity text, p_enabled boolean, p_secret text, p_email_domains text[])
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id       uuid := p_channel_id;
    v_before   ops.notification_channels;
    v_refused  text;
begin
    perform ops_private.require_notification_admin(p_org_id, 'Changing notification channels');
    if p_kind = 'email' and p_smtp_host is null then
        select pg_catalog.string_agg(r.address, ', ' order by r.n) into v_refused
          from pg_catalog.regexp_split_to_table(p_target, '[,;[:space:]]+') with ordinality r(address, n)
         where r.address <> '' and not ops_private.notification_recipient_allowed(p_org_id, r.address, p_email_domains);
        if v_refused is not null then
            raise exception 'Through this server''s SMTP server, e-mail goes only to the organisation''s members%; not allowed: %. Give the channel its own SMTP server to mail others.',
                case when coalesce(pg_catalog.cardinality(p_email_domains), 0) > 0
                     then ' and addresses at ' || pg_catalog.array_to_string(p_email_domains, ', ') else '' end,
                v_refused
                using errcode = '22023', column = 'recipients';
        end if;
    end if;
    if exists (select 1 from pg_catalog.unnest(p_project_ids) x(id)
                where not exists (select 1 from ops.projects p where p.id = x.id and p.org_id = p_org_id and p.archived_at is null)) then
        raise exception 'project_ids must name projects of this organisation.' using errcode = '22023', column = 'project_ids';
    end if;
    if v_id is null then
        if p_secret is null and p_kind <> 'email' then
            raise exception 'A % channel needs its secret.', p_kind using errcode = '22023', column = 'secret';
        end if;
        insert into ops.notification_channels (org_id, name, kind, target, smtp_host, smtp_port, smtp_tls, smtp_username, smtp_from,
                                               events, project_ids, min_severity, enabled, created_by)
        values (p_org_id, p_name, p_kind, p_target, p_smtp_host, p_smtp_port, p_smtp_tls, p_smtp_username, p_smtp_from,
                p_events, p_project_ids, p_min_severity, p_enabled, ops.current_user_id())
        returning id into v_id;
    else
        select * into v_before from ops.notification_channels c where c.id = v_id and c.org_id = p_org_id for no key update;
        if not found then
            raise exception 'No such notification channel.' using errcode = 'P0002';
        end if;
        if v_before.kind <> p_kind then
            raise exception 'A channel keeps its kind (%); make a new one.', v_before.kind using errcode = '22023', column = 'kind';
        end if;
        update ops.notification_channels c
           set name = p_name, target = p_target, smtp_host = p_smtp_host, smtp_port = p_smtp_port, smtp_tls = p_smtp_tls,
               smtp_username = p_smtp_username, smtp_from = p_smtp_from, events = p_events, project_ids = p_project_ids,
               min_severity = p_min_severity, enabled = p_enabled, updated_at = pg_catalog.now(),
               consecutive_failures = case when p_enabled then c.consecutive_failures else 0 end,
               failing_since = case when p_enabled then c.failing_since end
         where c.id = v_id;
        if not p_enabled then
            update ops.notification_deliveries d
               set status = 'failed', next_attempt_at = null, lease_id = null, lease_until = null, error = 'the channel was disabled'
             where d.channel_id = v_id and d.status = 'pending';
            perform ops_private.notification_channel_advisories(v_id, false);
        end if;
    end if;
    if p_secret = '' then
        delete from ops_private.notification_channel_secrets s where s.channel_id = v_id;
        update ops.notification_channels c set secret_set_at = null where c.id = v_id;
    elsif p_secret is not null then
        insert into ops_private.notification_channel_secrets as s (channel_id, secret, set_at)
        values (v_id, p_secret, pg_catalog.now())
        on conflict (channel_id) do update set secret = excluded.secret, set_at = excluded.set_at;
        update ops.notification_channels c set secret_set_at = pg_catalog.now() where c.id = v_id;
    end if;
    return v_id;
end
$$;
revoke all on function ops.save_notification_channel(uuid, uuid, text, text, text, text, int, text, text, text, text[], uuid[], text, boolean, text, text[])
    from public, ops_app, ops_service;
grant execute on function ops.save_notification_channel(uuid, uuid, text, text, text, text, int, text, text, text, text[], uuid[], text, boolean, text, text[])
    to ops_app;
