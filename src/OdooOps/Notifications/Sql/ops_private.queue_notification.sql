-- Writes an event into the outbox, and a pending delivery for each enabled channel of the project's organisation that
-- wants it (the event chosen, every project or this one, and for advisories at least the channel's least severity),
-- in the caller's transaction: the change and its announcement commit together or not at all. Nothing is written
-- when no channel wants it. p_skip_channel is left out (a channel is not told about its own failing). The payload says
-- where it happened (organisation, project, branch) and p_subject under p_subject_key. Wakes the delivery workers
-- (NOTIFY ops_notifications) at commit. Answers how many deliveries.
-- The callers are the source tables' triggers: an announcement must never break the write that caused it (a build's
-- end, a release, a backup). Missing words are filled in, and anything that still fails writes nothing and raises a
-- WARNING (the server's log) instead of an error.
create or replace function ops_private.queue_notification(p_project_id uuid, p_branch_id uuid, p_event text, p_severity text,
                                                         p_summary text, p_subject_key text, p_subject jsonb, p_skip_channel uuid)
returns int
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_project  ops.projects;
    v_org      registry.orgs;
    v_branch   ops.branches;
    v_event    uuid;
    v_summary  text;
    v_count    int;
begin
    select * into v_project from ops.projects p where p.id = p_project_id;
    if not found or not exists (
        select 1 from ops.notification_channels c
         where c.org_id = v_project.org_id and c.enabled and p_event = any (c.events) and c.id is distinct from p_skip_channel
           and (c.project_ids is null or p_project_id = any (c.project_ids))
           and (p_severity is null or ops_private.notification_severity_rank(p_severity) >= ops_private.notification_severity_rank(c.min_severity))) then
        return 0;
    end if;
    begin
        select * into strict v_org from registry.orgs o where o.id = v_project.org_id;
        select * into v_branch from ops.branches b where b.id = p_branch_id;
        v_summary := pg_catalog.left(coalesce(nullif(v_project.name, ''), v_project.slug, 'a project') || ': '
                                     || coalesce(nullif(pg_catalog.btrim(p_summary), ''), p_event), 500);
        insert into ops_private.notification_events (org_id, project_id, event, severity, summary, data)
        values (v_org.id, v_project.id, p_event, p_severity, v_summary,
                pg_catalog.jsonb_build_object(
                    'organisation', pg_catalog.jsonb_build_object('id', v_org.id, 'slug', v_org.slug, 'name', v_org.name),
                    'project', pg_catalog.jsonb_build_object('id', v_project.id, 'slug', v_project.slug, 'name', v_project.name),
                    'branch', case when v_branch.id is null then null
                                   else pg_catalog.jsonb_build_object('id', v_branch.id, 'name', v_branch.name, 'stage', v_branch.stage) end,
                    coalesce(p_subject_key, 'subject'), coalesce(p_subject, '{}'::jsonb)))
        returning id into v_event;
        insert into ops.notification_deliveries (org_id, channel_id, event_id, event, project_id, summary, next_attempt_at)
        select c.org_id, c.id, v_event, p_event, v_project.id, v_summary, pg_catalog.now()
          from ops.notification_channels c
         where c.org_id = v_org.id and c.enabled and p_event = any (c.events) and c.id is distinct from p_skip_channel
           and (c.project_ids is null or p_project_id = any (c.project_ids))
           and (p_severity is null or ops_private.notification_severity_rank(p_severity) >= ops_private.notification_severity_rank(c.min_severity));
        get diagnostics v_count = row_count;
    exception when others then
        raise warning 'OdooOps: the % notification of project % was not written (%: %); the change that caused it stands.',
            p_event, p_project_id, sqlstate, sqlerrm;
        return 0;
    end;
    perform pg_catalog.pg_notify('ops_notifications', '');
    return v_count;
end
$$;
revoke all on function ops_private.queue_notification(uuid, uuid, text, text, text, text, jsonb, uuid) from public, ops_app, ops_service;
