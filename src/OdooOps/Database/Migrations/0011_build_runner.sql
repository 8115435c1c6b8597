-- 0011: the build runner (src/OdooOps/Runners/, docs/runner-protocol.md). Runners speak HTTP to the server and hold
-- no database credentials; these SECURITY DEFINER functions, run as ops_service by the runner API, are everything a
-- runner can do to the database. Every call after the claim names the lease it holds (build, runner, lease id): a
-- runner whose lease was taken away (expired and re-queued, or finished) is refused with SQLSTATE OOL01, which the
-- API answers with 409, so no build is finished twice.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

alter table ops.builds add column runner_id uuid references ops.runners (id) on delete set null;
comment on column ops.builds.runner_id is 'The runner of the latest attempt.';

-- The runner `odooops serve` starts in-process: one row per host name, re-keyed at every start.
alter table ops.runners add column embedded boolean not null default false;
create unique index runners_embedded_name_key on ops.runners (name) where embedded;

-- Long polls of idle runners wait on this channel; every enqueue wakes them at once.
create or replace function ops.builds_enqueue()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_stage text;
begin
    select b.stage into v_stage from ops.branches b where b.id = new.branch_id;

    insert into ops.run_queue (build_id, project_id, priority)
    values (
        new.id,
        new.project_id,
        case v_stage when 'production' then 300 when 'staging' then 200 else 100 end
      + case new.trigger when 'push' then 10 when 'schedule' then 0 else 20 end   -- manual/api/rebuild
    )
    on conflict (build_id) do nothing;
    perform pg_catalog.pg_notify('ops_run_queue', new.project_id::text);
    return null;
end
$$;

-- ---------------------------------------------------------------------------
-- Runner identity
-- ---------------------------------------------------------------------------

-- An org admin's registration token (oo_reg_…, by its hash) becomes a runner with its own token (hash). The token
-- may register several runners until it expires or is revoked. Refused: SQLSTATE OOR01 (the API says 401).
create function ops.register_runner(p_registration_hash bytea, p_name text, p_labels text[], p_capacity int,
                                    p_version text, p_token_hash bytea)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_token  ops.runner_registration_tokens;
    v_id     uuid;
begin
    select * into v_token from ops.runner_registration_tokens t
     where t.token_hash = p_registration_hash and t.revoked_at is null and (t.expires_at is null or t.expires_at > pg_catalog.now())
       for update;
    if not found then
        raise exception 'Unknown, expired or revoked registration token.' using errcode = 'OOR01';
    end if;
    insert into ops.runners (org_id, name, labels, capacity, token_hash, version, last_seen_at)
    values (v_token.org_id, p_name, coalesce(p_labels, '{}'), p_capacity, p_token_hash, p_version, pg_catalog.now())
    returning id into v_id;
    update ops.runner_registration_tokens t set used_at = pg_catalog.now() where t.id = v_token.id;
    return v_id;
end
$$;

-- The in-process runner of `serve`: a shared runner named after the host, given a fresh token at every start.
create function ops.ensure_embedded_runner(p_name text, p_capacity int, p_labels text[], p_version text, p_token_hash bytea)
returns uuid
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into ops.runners (org_id, name, labels, capacity, token_hash, version, last_seen_at, embedded)
    values (null, p_name, coalesce(p_labels, '{}'), p_capacity, p_token_hash, p_version, pg_catalog.now(), true)
    on conflict (name) where embedded do update
       set token_hash = excluded.token_hash, capacity = excluded.capacity, labels = excluded.labels,
           version = excluded.version, last_seen_at = excluded.last_seen_at, disabled_at = null
    returning id;
$$;

-- A runner token (by its hash) to its runner; none when unknown or disabled. Marks the runner seen (at most every
-- 10 s, so that heartbeats do not rewrite the row each second).
create function ops.authenticate_runner(p_token_hash bytea)
returns table (id uuid, org_id uuid, name text, capacity int, labels text[])
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update ops.runners r set last_seen_at = pg_catalog.now()
     where r.token_hash = p_token_hash and r.disabled_at is null
       and (r.last_seen_at is null or r.last_seen_at < pg_catalog.now() - interval '10 seconds');
    return query
    select r.id, r.org_id, r.name, r.capacity, r.labels from ops.runners r
     where r.token_hash = p_token_hash and r.disabled_at is null;
end
$$;

-- An org admin (a system admin for shared runners, p_org_id null) issues a registration token (its hash).
create function ops.create_runner_registration_token(p_org_id uuid, p_token_hash bytea, p_expires_at timestamptz)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id uuid;
begin
    if (p_org_id is null and not ops.is_system_admin())
       or (p_org_id is not null and ops.role_rank(ops.org_role(p_org_id)) < ops.role_rank('admin')) then
        raise exception 'Registering runners needs the admin role in this org.' using errcode = '42501';
    end if;
    insert into ops.runner_registration_tokens (org_id, token_hash, created_by, expires_at)
    values (p_org_id, p_token_hash, ops.current_user_id(), p_expires_at)
    returning id into v_id;
    return v_id;
end
$$;

-- ---------------------------------------------------------------------------
-- The queue
-- ---------------------------------------------------------------------------

-- Leases up to p_max queued builds for a runner, within its free capacity (its capacity minus the leases it holds)
-- and its labels (a build's required labels must all be the runner's), an org runner taking its org's builds only.
-- Order: priority (production > staging > development, manual > push; set on enqueue), then age. One statement
-- picks and leases: SKIP LOCKED lets concurrent claims pass each other instead of queueing on the same rows, and
-- locking the build row too keeps a claim from deadlocking with a cancel of the same build. The runner row is
-- locked first so that one runner's concurrent polls cannot together exceed its capacity.
create function ops.claim_build_jobs(p_runner_id uuid, p_max int, p_lease_seconds int)
returns table (build_id uuid, lease_id uuid, lease_until timestamptz, attempt int, project_id uuid, project_slug text,
               odoo_version text, repo_url text, commit_sha text, branch text, stage text, trigger text,
               log_seq_start bigint, env jsonb)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_runner  ops.runners;
    v_free    int;
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id and r.disabled_at is null for update;
    if not found then
        raise exception 'Unknown or disabled runner.' using errcode = 'OOR01';
    end if;
    select greatest(0, least(p_max, v_runner.capacity - pg_catalog.count(*)))::int into v_free
      from ops.run_queue q where q.lease_owner = p_runner_id and q.state = 'leased';
    if v_free = 0 then
        return;
    end if;

    return query
    with picked as (
        select q.build_id
          from ops.run_queue q
          join ops.builds b on b.id = q.build_id
         where q.state = 'queued' and q.available_at <= pg_catalog.now()
           and q.labels operator(pg_catalog.<@) v_runner.labels
           and (v_runner.org_id is null
                or exists (select 1 from ops.projects p where p.id = q.project_id and p.org_id = v_runner.org_id))
         order by q.priority desc, q.enqueued_at
         limit v_free
           for update of q, b skip locked
    ), leased as (
        update ops.run_queue q
           set state = 'leased', lease_id = gen_random_uuid(), lease_owner = p_runner_id,
               lease_until = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds), attempts = q.attempts + 1
          from picked
         where q.build_id = picked.build_id
        returning q.build_id, q.lease_id, q.lease_until, q.attempts, q.priority, q.enqueued_at
    ), started as (
        update ops.builds b
           set status = 'running', started_at = coalesce(b.started_at, pg_catalog.now()), attempt = l.attempts, runner_id = p_runner_id
          from leased l
         where b.id = l.build_id
        returning b.id, b.project_id, b.branch_id, b.commit_sha, b.trigger
    )
    select l.build_id, l.lease_id, l.lease_until, l.attempts, s.project_id, p.slug, p.runtime_version, p.repo_url,
           s.commit_sha, br.name, br.stage, s.trigger,
           coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = l.build_id), 0),
           coalesce((select pg_catalog.jsonb_object_agg(v.name, v.value) from ops.env_vars v
                      where v.project_id = s.project_id and v.stage = br.stage), '{}'::jsonb)
      from leased l
      join started s on s.id = l.build_id
      join ops.projects p on p.id = s.project_id
      join ops.branches br on br.id = s.branch_id
     order by l.priority desc, l.enqueued_at;
end
$$;

-- The lease row of a build, locked, if this runner still holds this lease; SQLSTATE OOL01 otherwise.
create function ops_private.held_lease(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns ops.run_queue
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.run_queue;
begin
    select * into v_row from ops.run_queue q
     where q.build_id = p_build_id and q.state = 'leased' and q.lease_owner = p_runner_id and q.lease_id = p_lease_id
       for update;
    if not found then
        raise exception 'This runner no longer holds the lease of build %.', p_build_id using errcode = 'OOL01';
    end if;
    return v_row;
end
$$;
revoke execute on function ops_private.held_lease(uuid, uuid, uuid) from public;

-- Heartbeat: extends the lease and answers whether a cancel was requested.
create function ops.extend_build_lease(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_lease_seconds int)
returns table (lease_until timestamptz, cancel_requested boolean)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return query
    with extended as (
        update ops.run_queue q
           set lease_until = greatest(q.lease_until, pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds))
         where q.build_id = p_build_id
        returning q.lease_until
    )
    select e.lease_until, (select b.cancel_requested_at is not null from ops.builds b where b.id = p_build_id) from extended e;
end
$$;

-- What the runner checked out (the resolved commit when the build named none) and the Odoo modules it found.
create function ops.record_build_source(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_commit_sha text,
                                        p_commit_message text, p_modules jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    update ops.builds b
       set commit_sha = coalesce(p_commit_sha, b.commit_sha),
           commit_message = coalesce(pg_catalog.left(p_commit_message, 2000), b.commit_message),
           modules = coalesce(p_modules, b.modules)
     where b.id = p_build_id;
end
$$;

-- Appends log lines by sequence number; a line already stored (a re-sent batch) is skipped. Lines numbered at or
-- past p_max_lines are dropped and one 'system' line at that number says so. Wakes the log streams.
create function ops.append_build_logs(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_seqs bigint[],
                                      p_ts timestamptz[], p_streams text[], p_lines text[], p_max_lines bigint)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease     ops.run_queue;
    v_inserted  int;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    insert into ops.build_logs (build_id, project_id, seq, ts, stream, line)
    select p_build_id, v_lease.project_id, s.seq, coalesce(s.ts, pg_catalog.now()), s.stream, s.line
      from rows from (pg_catalog.unnest(p_seqs), pg_catalog.unnest(p_ts), pg_catalog.unnest(p_streams), pg_catalog.unnest(p_lines))
           as s(seq, ts, stream, line)
     where s.seq < p_max_lines
    on conflict do nothing;
    get diagnostics v_inserted = row_count;
    if exists (select 1 from pg_catalog.unnest(p_seqs) x where x >= p_max_lines) then
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (p_build_id, v_lease.project_id, p_max_lines, 'system',
                pg_catalog.format('The log of this build is cut at %s lines (OPS_BUILD_LOG_MAX_LINES); later lines were dropped.', p_max_lines))
        on conflict do nothing;
    end if;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
    return v_inserted;
end
$$;

-- A step started (status running) or finished (its final status, exit code and duration).
create function ops.report_build_step(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_seq int, p_name text,
                                      p_status text, p_exit_code int, p_started_at timestamptz, p_duration_ms bigint)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease ops.run_queue;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    insert into ops.build_steps (build_id, project_id, seq, name, status, exit_code, started_at, finished_at, duration_ms)
    values (p_build_id, v_lease.project_id, p_seq, pg_catalog.left(p_name, 200), p_status, p_exit_code,
            coalesce(p_started_at, pg_catalog.now()),
            case when p_status not in ('pending', 'running') then pg_catalog.now() end, p_duration_ms)
    on conflict (build_id, seq) do update
       set name = excluded.name, status = excluded.status, exit_code = excluded.exit_code,
           started_at = coalesce(ops.build_steps.started_at, excluded.started_at),
           finished_at = excluded.finished_at, duration_ms = excluded.duration_ms;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
end
$$;

-- The runner's result. The build leaves the queue (builds_dequeue) and the lease ends with it.
create function ops.finish_build_job(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_result text, p_detail text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_result is null or p_result not in ('success', 'warning', 'failed', 'cancelled', 'timed_out') then
        raise exception 'result must be success, warning, failed, cancelled or timed_out' using errcode = '22023', column = 'result';
    end if;
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    update ops.builds b
       set status = p_result, finished_at = pg_catalog.now(), result_detail = pg_catalog.left(p_detail, 4000)
     where b.id = p_build_id;
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
end
$$;

-- The rescuer (scheduler job `runner_rescue`, every 30 s): a lease that ran out means its runner is gone. The build
-- is re-queued (attempt + 1; steps of the lost attempt cleared, its log kept) until max_attempts, then failed with
-- "runner lost"; a build whose cancel was requested becomes cancelled. Each outcome is written into the build log.
create function ops.rescue_build_leases()
returns table (requeued int, failed int, cancelled int)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row        record;
    v_requeued   int := 0;
    v_failed     int := 0;
    v_cancelled  int := 0;
    v_line       text;
begin
    for v_row in
        select q.build_id, q.project_id, q.attempts, q.max_attempts, q.lease_until, b.cancel_requested_at
          from ops.run_queue q join ops.builds b on b.id = q.build_id
         where q.state = 'leased' and q.lease_until < pg_catalog.now()
           for update of q, b skip locked
    loop
        if v_row.cancel_requested_at is not null then
            update ops.builds b set status = 'cancelled', finished_at = pg_catalog.now(),
                   result_detail = 'Cancelled; the runner did not confirm before its lease ran out.'
             where b.id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s: the runner stopped answering after the cancel request; the build is cancelled.', v_row.attempts);
            v_cancelled := v_cancelled + 1;
        elsif v_row.attempts < v_row.max_attempts then
            update ops.run_queue q set state = 'queued', lease_id = null, lease_owner = null, lease_until = null,
                   available_at = pg_catalog.now()
             where q.build_id = v_row.build_id;
            update ops.builds b set status = 'queued' where b.id = v_row.build_id;
            delete from ops.build_steps s where s.build_id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s lost its runner (no heartbeat, lease ran out at %s); re-queued as attempt %s of %s.',
                                        v_row.attempts, v_row.lease_until, v_row.attempts + 1, v_row.max_attempts);
            v_requeued := v_requeued + 1;
        else
            update ops.builds b set status = 'failed', finished_at = pg_catalog.now(), result_detail = 'runner lost'
             where b.id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s lost its runner (lease ran out at %s) and no attempts are left: failed (runner lost).',
                                        v_row.attempts, v_row.lease_until);
            v_failed := v_failed + 1;
        end if;
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (v_row.build_id, v_row.project_id,
                coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = v_row.build_id), 0), 'system', v_line);
        perform pg_catalog.pg_notify('ops_build_logs', v_row.build_id::text);
    end loop;
    if v_requeued > 0 then
        perform pg_catalog.pg_notify('ops_run_queue', '');
    end if;
    return query select v_requeued, v_failed, v_cancelled;
end
$$;

revoke execute on function
    ops.register_runner(bytea, text, text[], int, text, bytea),
    ops.ensure_embedded_runner(text, int, text[], text, bytea),
    ops.authenticate_runner(bytea),
    ops.claim_build_jobs(uuid, int, int),
    ops.extend_build_lease(uuid, uuid, uuid, int),
    ops.record_build_source(uuid, uuid, uuid, text, text, jsonb),
    ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint),
    ops.report_build_step(uuid, uuid, uuid, int, text, text, int, timestamptz, bigint),
    ops.finish_build_job(uuid, uuid, uuid, text, text),
    ops.rescue_build_leases()
from public;

grant execute on function
    ops.register_runner(bytea, text, text[], int, text, bytea),
    ops.ensure_embedded_runner(text, int, text[], text, bytea),
    ops.authenticate_runner(bytea),
    ops.claim_build_jobs(uuid, int, int),
    ops.extend_build_lease(uuid, uuid, uuid, int),
    ops.record_build_source(uuid, uuid, uuid, text, text, jsonb),
    ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint),
    ops.report_build_step(uuid, uuid, uuid, int, text, text, int, timestamptz, bigint),
    ops.finish_build_job(uuid, uuid, uuid, text, text),
    ops.rescue_build_leases()
to ops_service;

-- Issued by a signed-in admin through the API (as ops_app): the function checks the role itself.
revoke execute on function ops.create_runner_registration_token(uuid, bytea, timestamptz) from public;
grant execute on function ops.create_runner_registration_token(uuid, bytea, timestamptz) to ops_app;
