-- One verified push, all in the caller's transaction. p_commit_sha null with p_deleted: the branch was deleted.
--   replay:   a push whose delivery id (p_delivery_id) or body digest (p_body_sha256, GitHub's signed body) this project
--             received in the last 24 hours → 'duplicate', nothing else done. Otherwise both are recorded with the
--             push (a push refused later in the caller's transaction, e.g. 429, is not recorded: its redelivery works).
--   deleted:  archives the branch and cancels its queued builds → 'archived'; an unknown (or archived) branch →
--             'unknown_branch'; the production branch is never archived by a push → 'production_branch'.
--   pushed:   creates the branch at development if it is new (an archived one is restored at development), then
--             queues the build through ops.trigger_build, which owns the rules: the same commit already queued or
--             running → 'existing' (that build); the project's queue full → 'too_many' (and a branch created for it
--             is undone: nothing is written); else the branch's queued builds of other commits are cancelled when
--             p_cancel_superseded and the pushed head (p_commit_at, the payload's commit time) is not older than a commit
--             the branch already has, and the build is queued (trigger 'push') → 'queued'.
-- Changes are audited (ops.write_audit) with actor 'webhook', no user, and detail '<provider> push'.
create or replace function ops.webhook_push(
    p_project_id         uuid,
    p_provider           text,
    p_branch             text,
    p_commit_sha         text,
    p_commit_message     text,
    p_deleted            boolean,
    p_cancel_superseded  boolean,
    p_max_queued         integer,
    p_ip                 inet,
    p_delivery_id        text,
    p_body_sha256        bytea,
    p_commit_at          timestamptz)
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
    v_result   record;
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
    if p_delivery_id is not null or p_body_sha256 is not null then
        -- Forget this project's deliveries older than 24 h (the webhook_deliveries job prunes the rest), then claim this
        -- one: the same delivery arriving twice at once waits here until the first commits (then it is a duplicate)
        -- or rolls back (then it does the work itself).
        delete from ops_private.webhook_deliveries d
         where d.project_id = p_project_id and d.received_at < pg_catalog.now() - interval '24 hours';
        insert into ops_private.webhook_deliveries (project_id, provider, delivery_id, body_sha256)
        values (p_project_id, p_provider, pg_catalog.left(p_delivery_id, 200), p_body_sha256)
        on conflict do nothing;
        if not found then
            outcome := 'duplicate';
            branch_created := false;
            cancelled_build_ids := '{}';
            return next;
            return;
        end if;
    end if;
    -- A push has no user, whatever this session carries: the build and its audit rows name none.
    perform pg_catalog.set_config('ops.user_id', '', true);
    v_detail := p_provider || ' push';
    branch_created := false;
    cancelled_build_ids := '{}';

    -- Pushes of one branch name run one at a time (creating it included).
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_project_id::text || '/' || p_branch, 11));
    select * into v_branch from ops.branches b where b.project_id = p_project_id and b.name = p_branch;
    v_live := found and v_branch.archived_at is null;
    if v_live then
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
            perform ops.write_audit('webhook', 'branch.archive', 'branch', v_branch.id::text, v_org, p_project_id,
                pg_catalog.jsonb_build_object('name', v_branch.name, 'stage', v_branch.stage),
                pg_catalog.jsonb_build_object('detail', v_detail, 'cancelled_build_ids', cancelled_build_ids), p_ip);
            outcome := 'archived';
        end if;
        return next;
        return;
    end if;

    if v_live then
        select q.outcome, q.build_id, q.queued_builds, q.cancelled_build_ids into v_result
          from ops.trigger_build(p_project_id, v_branch.id, 'push', v_sha, p_max_queued, p_commit_message,
                                 coalesce(p_cancel_superseded, true), 'webhook', v_detail, p_ip, p_commit_at) q;
    else
        begin
            if v_branch.id is null then
                insert into ops.branches (project_id, name, stage, is_production)
                values (p_project_id, p_branch, 'development', false)
                returning * into v_branch;
            else
                update ops.branches b set archived_at = null, stage = 'development', is_production = false
                 where b.id = v_branch.id
                returning * into v_branch;
            end if;
            perform ops.write_audit('webhook', 'branch.create', 'branch', v_branch.id::text, v_org, p_project_id, null,
                pg_catalog.jsonb_build_object('detail', v_detail, 'name', v_branch.name, 'stage', v_branch.stage), p_ip);
            select q.outcome, q.build_id, q.queued_builds, q.cancelled_build_ids into v_result
              from ops.trigger_build(p_project_id, v_branch.id, 'push', v_sha, p_max_queued, p_commit_message,
                                     coalesce(p_cancel_superseded, true), 'webhook', v_detail, p_ip, p_commit_at) q;
            if v_result.outcome = 'too_many' then
                raise exception using errcode = 'OOQ01'; -- undoes the branch: a refused push writes nothing
            end if;
            branch_id := v_branch.id;
            branch_created := true;
        exception when sqlstate 'OOQ01' then
            null;
        end;
    end if;

    outcome := v_result.outcome;
    build_id := v_result.build_id;
    queued_builds := v_result.queued_builds;
    cancelled_build_ids := coalesce(v_result.cancelled_build_ids, '{}');
    if build_id is not null then
        select b.status into build_status from ops.builds b where b.id = build_id;
    end if;
    return next;
end
$$;
revoke all on function ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet, text, bytea, timestamptz) from public, ops_app, ops_service;
grant execute on function ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet, text, bytea, timestamptz) to ops_service;
