-- One verified push, all in the caller's transaction. p_commit_sha null with p_deleted: the branch was deleted.
--   deleted:  archives the branch and cancels its queued builds → 'archived'; an unknown (or archived) branch →
--             'unknown_branch'; the production branch is never archived by a push → 'production_branch'.
--   pushed:   the same commit already queued or running on the branch → 'existing' (that build); else, when the
--             project's queued builds (not counting those this push supersedes) reach p_max_queued → 'too_many'
--             with nothing written; else creates the branch at development if new (an archived one is restored
--             at development), cancels the branch's queued builds of other commits when p_cancel_superseded,
--             and queues a build (trigger 'push') → 'queued'.
-- Changes are audited with actor 'webhook', no user, and detail '<provider> push'.
create or replace function ops.webhook_push(
    p_project_id         uuid,
    p_provider           text,
    p_branch             text,
    p_commit_sha         text,
    p_commit_message     text,
    p_deleted            boolean,
    p_cancel_superseded  boolean,
    p_max_queued         integer,
    p_ip                 inet)
returns table (outcome text, branch_id uuid, branch_created boolean, build_id uuid, build_status text,
               cancelled_build_ids uuid[], queued_builds integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_org      uuid;
    v_detail   text;
    v_sha      text := pg_catalog.lower(p_commit_sha);
    v_branch   ops.branches;
    v_live     boolean;
    v_ids      uuid[] := '{}';
    v_queued   integer;
begin
    if p_provider is null or p_provider not in ('github', 'gitlab') then
        raise exception 'webhook_push: unknown provider %', coalesce(p_provider, 'null') using errcode = '22023';
    end if;
    if p_branch is null or pg_catalog.char_length(p_branch) not between 1 and 200 or p_branch ~ '[[:space:][:cntrl:]]' then
        raise exception 'The pushed ref does not name a branch OdooOps can keep (1 to 200 characters, no spaces).'
            using errcode = '22023', column = 'ref';
    end if;
    if not coalesce(p_deleted, false) and (v_sha is null or v_sha !~ '^([0-9a-f]{40}|[0-9a-f]{64})$') then
        raise exception 'The pushed commit must be a full SHA-1 or SHA-256 in hex.' using errcode = '22023', column = 'after';
    end if;
    select p.org_id into v_org from ops.projects p where p.id = p_project_id and p.archived_at is null;
    if not found then
        raise exception 'No project with this id.' using errcode = 'P0002';
    end if;
    v_detail := p_provider || ' push';
    branch_created := false;
    cancelled_build_ids := '{}';

    -- Pushes of one branch name run one at a time (creating it included).
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_project_id::text || '/' || p_branch, 11));
    select * into v_branch from ops.branches b where b.project_id = p_project_id and b.name = p_branch;
    v_live := found and v_branch.archived_at is null;
    if v_live then
        -- The same lock as BuildTrigger's (console and API triggers of this branch).
        perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(v_branch.id::text, 7));
        branch_id := v_branch.id;
    end if;

    if coalesce(p_deleted, false) then
        if not v_live then
            outcome := 'unknown_branch';
        elsif v_branch.stage = 'production' then
            outcome := 'production_branch';
        else
            with c as (
                update ops.builds b
                   set status = 'cancelled', cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now()),
                       finished_at = pg_catalog.now(), result_detail = 'The branch was deleted in the repository.'
                 where b.branch_id = v_branch.id and b.status = 'queued'
                returning b.id)
            select coalesce(pg_catalog.array_agg(c.id), '{}') into cancelled_build_ids from c;
            update ops.branches b set archived_at = pg_catalog.now() where b.id = v_branch.id;
            insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip)
            values (v_org, p_project_id, null, 'webhook', 'branch.archive', 'branch', v_branch.id::text,
                    pg_catalog.jsonb_build_object('name', v_branch.name, 'stage', v_branch.stage),
                    pg_catalog.jsonb_build_object('detail', v_detail, 'cancelled_build_ids', cancelled_build_ids), p_ip);
            outcome := 'archived';
        end if;
        return next;
        return;
    end if;

    if v_live then
        select b.id, b.status into build_id, build_status
          from ops.builds b
         where b.branch_id = v_branch.id and b.status in ('queued', 'running') and b.commit_sha = v_sha
         order by b.created_at desc
         limit 1;
        if found then
            outcome := 'existing';
            return next;
            return;
        end if;
        if coalesce(p_cancel_superseded, true) then
            select coalesce(pg_catalog.array_agg(b.id order by b.created_at), '{}') into v_ids
              from ops.builds b
             where b.branch_id = v_branch.id and b.status = 'queued' and b.commit_sha is distinct from v_sha;
        end if;
    end if;

    select pg_catalog.count(*) into v_queued from ops.builds b where b.project_id = p_project_id and b.status = 'queued';
    if v_queued - pg_catalog.cardinality(v_ids) >= coalesce(p_max_queued, 20) then
        outcome := 'too_many';
        queued_builds := v_queued;
        return next;
        return;
    end if;

    if not v_live then
        if v_branch.id is null then
            insert into ops.branches (project_id, name, stage, is_production)
            values (p_project_id, p_branch, 'development', false)
            returning * into v_branch;
        else
            update ops.branches b set archived_at = null, stage = 'development', is_production = false
             where b.id = v_branch.id
            returning * into v_branch;
        end if;
        branch_id := v_branch.id;
        branch_created := true;
        insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, after, ip)
        values (v_org, p_project_id, null, 'webhook', 'branch.create', 'branch', v_branch.id::text,
                pg_catalog.jsonb_build_object('detail', v_detail, 'name', v_branch.name, 'stage', v_branch.stage), p_ip);
    end if;

    if pg_catalog.cardinality(v_ids) > 0 then
        -- A runner may have claimed one meanwhile: only those still queued are cancelled (and reported).
        with c as (
            update ops.builds b
               set status = 'cancelled', cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now()),
                   finished_at = pg_catalog.now(), result_detail = 'Superseded by a push of ' || v_sha || '.'
             where b.id = any (v_ids) and b.status = 'queued'
            returning b.id)
        select coalesce(pg_catalog.array_agg(c.id), '{}') into cancelled_build_ids from c;
    end if;

    insert into ops.builds (project_id, branch_id, trigger, commit_sha, commit_message, triggered_by)
    values (p_project_id, v_branch.id, 'push', v_sha, pg_catalog.left(p_commit_message, 10000), null)
    returning id, status into build_id, build_status;
    insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, after, ip)
    values (v_org, p_project_id, null, 'webhook', 'build.trigger', 'build', build_id::text,
            pg_catalog.jsonb_build_object('detail', v_detail, 'branch', v_branch.name, 'commit_sha', v_sha, 'trigger', 'push',
                                          'cancelled_build_ids', cancelled_build_ids), p_ip);
    outcome := 'queued';
    queued_builds := v_queued - pg_catalog.cardinality(cancelled_build_ids) + 1;
    return next;
end
$$;
revoke execute on function ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet) from public;
grant execute on function ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet) to ops_service;
