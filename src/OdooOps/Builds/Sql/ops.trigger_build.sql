-- Queues a build of a branch: the one owner of the rules every new build passes, for the API, the console, rebuilds
-- and git pushes (ops.webhook_push) alike.
--   who:    the acting user must pass ops.can_build (42501 in ops.build_refusal's words). A push, verified by its
--           signature, has no user: ops.webhook_push runs this as the owner, where RLS is off and no role is asked;
--   dedupe: the same commit (or none) already queued or running on the branch → 'existing', that build, nothing written;
--   cap:    the project's queued builds, less those this call supersedes, at p_max_queued → 'too_many', nothing
--           written (null: no cap; the host always passes OPS_MAX_QUEUED_BUILDS_PER_PROJECT, and so do git pushes);
--   else:   with p_supersede, the branch's queued builds of other commits are cancelled — unless p_commit_at (the pushed
--           commit's time, from the push payload) is older than a commit the branch already has queued or built (a
--           replayed or late push: it cancels nothing, 'kept_newer_builds' in its audit row); the build is inserted
--           (the builds_enqueue trigger queues it and snapshots its stage and variables) and audited as p_actor, with
--           p_detail → 'queued'. p_commit_at is recorded for the database's own callers only (a push), never a user's.
-- Triggers of one branch, then of one project, run one at a time (transaction locks), so two identical requests queue
-- one build and concurrent triggers cannot overshoot the cap.
-- SECURITY DEFINER: the request role may not insert builds itself (a direct insert would skip the dedupe, the cap and
-- the audit row), so a user's call is checked here (ops_private.is_request_session): a project they cannot see is
-- not found, and ops.can_build must allow the branch.
-- Bad arguments: 22023, unknown project or branch: P0002, archived branch: 55000, each naming its column.
create or replace function ops.trigger_build(
    p_project_id      uuid,
    p_branch_id       uuid,
    p_trigger         text default 'manual',
    p_commit_sha      text default null,
    p_max_queued      integer default null,
    p_commit_message  text default null,
    p_supersede       boolean default false,
    p_actor           text default 'user',
    p_detail          text default null,
    p_ip              inet default null,
    p_commit_at       timestamptz default null)
returns table (outcome text, build_id uuid, queued_builds integer, cancelled_build_ids uuid[])
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_trigger  text := coalesce(p_trigger, 'manual');
    v_sha      text := pg_catalog.lower(pg_catalog.btrim(p_commit_sha));
    v_org      uuid;
    v_branch   ops.branches;
    v_ids      uuid[] := '{}';
    v_queued   integer;
    v_refusal  text;
    v_after    jsonb;
    v_user     boolean := ops_private.is_request_session();
    v_stale    boolean := false;
    v_at       timestamptz := case when ops_private.is_request_session() then null else p_commit_at end;
    -- A user is always audited as one; only the database's own callers (a push) name another actor.
    v_actor    text := case when v_user then 'user' else coalesce(p_actor, 'user') end;
begin
    if v_trigger not in ('manual', 'push', 'api', 'schedule', 'rebuild') then
        raise exception 'invalid trigger "%"', p_trigger using errcode = '22023', column = 'trigger';
    end if;
    if v_sha is not null and v_sha !~ '^[0-9a-f]{4,64}$' then
        raise exception 'invalid commit_sha "%": expected 4-64 hex digits', p_commit_sha using errcode = '22023', column = 'commit_sha';
    end if;
    select p.org_id into v_org from ops.projects p
     where p.id = p_project_id and (not v_user or p.id = any (ops.visible_project_ids()));
    if not found then
        raise exception 'project % not found', p_project_id using errcode = 'P0002', column = 'project_id';
    end if;
    select * into v_branch from ops.branches b where b.id = p_branch_id and b.project_id = p_project_id;
    if not found then
        raise exception 'branch % not found in project %', p_branch_id, p_project_id using errcode = 'P0002', column = 'branch_id';
    end if;
    if v_branch.archived_at is not null then
        raise exception 'branch % is archived', p_branch_id using errcode = '55000', column = 'branch_id';
    end if;
    if v_user then
        v_refusal := ops.build_refusal(p_project_id, p_branch_id, 'build');
        if v_refusal is not null then
            raise exception '%', v_refusal using errcode = '42501';
        end if;
    end if;

    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_branch_id::text, 7));
    -- The cap counts the whole project's queue: triggers of its other branches wait too, so two cannot both take the last place.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_project_id::text, 8));
    cancelled_build_ids := '{}';

    select b.id into build_id
      from ops.builds b
     where b.branch_id = p_branch_id and b.status in ('queued', 'running') and b.commit_sha is not distinct from v_sha
     order by b.created_at desc
     limit 1;
    if found then
        outcome := 'existing';
        return next;
        return;
    end if;

    if coalesce(p_supersede, false) and v_at is not null then
        v_stale := exists (select 1 from ops.builds b
                            where b.branch_id = p_branch_id and b.commit_at > v_at and b.commit_sha is distinct from v_sha);
    end if;
    if coalesce(p_supersede, false) and not v_stale then
        select coalesce(pg_catalog.array_agg(b.id order by b.created_at), '{}') into v_ids
          from ops.builds b
         where b.branch_id = p_branch_id and b.status = 'queued' and b.commit_sha is distinct from v_sha;
    end if;
    select pg_catalog.count(*) into v_queued from ops.builds b where b.project_id = p_project_id and b.status = 'queued';
    if p_max_queued is not null and v_queued - pg_catalog.cardinality(v_ids) >= p_max_queued then
        outcome := 'too_many';
        queued_builds := v_queued;
        return next;
        return;
    end if;

    if pg_catalog.cardinality(v_ids) > 0 then
        -- A runner may have claimed one meanwhile: only those still queued are cancelled (and reported).
        with c as (
            update ops.builds b
               set status = 'cancelled', cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now()),
                   finished_at = pg_catalog.now(), result_detail = 'Superseded by a push of ' || coalesce(v_sha, 'the branch head') || '.'
             where b.id = any (v_ids) and b.status = 'queued'
            returning b.id)
        select coalesce(pg_catalog.array_agg(c.id), '{}') into cancelled_build_ids from c;
    end if;

    insert into ops.builds (project_id, branch_id, trigger, commit_sha, commit_message, triggered_by)
    values (p_project_id, p_branch_id, v_trigger, v_sha, pg_catalog.left(p_commit_message, 10000), ops.current_user_id())
    returning id into build_id;
    if v_at is not null then
        update ops.builds b set commit_at = v_at where b.id = build_id;
    end if;

    v_after := pg_catalog.jsonb_build_object('branch', v_branch.name, 'commit_sha', v_sha, 'trigger', v_trigger);
    if p_detail is not null then
        v_after := v_after || pg_catalog.jsonb_build_object('detail', p_detail);
    end if;
    if v_trigger = 'push' then
        -- What a push cancelled (perhaps nothing) is part of what it did.
        v_after := v_after || pg_catalog.jsonb_build_object('cancelled_build_ids', cancelled_build_ids);
        if v_stale then
            v_after := v_after || pg_catalog.jsonb_build_object('kept_newer_builds', true);
        end if;
    end if;
    perform ops.write_audit(v_actor, 'build.trigger', 'build', build_id::text, v_org, p_project_id, null, v_after, p_ip);

    outcome := 'queued';
    queued_builds := v_queued - pg_catalog.cardinality(cancelled_build_ids) + 1;
    return next;
end
$$;
revoke all on function ops.trigger_build(uuid, uuid, text, text, integer, text, boolean, text, text, inet, timestamptz) from public, ops_app, ops_service;
grant execute on function ops.trigger_build(uuid, uuid, text, text, integer, text, boolean, text, text, inet, timestamptz) to ops_app;
