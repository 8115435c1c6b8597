-- Running builds and the scheduler for real: labels a project's builds require of their runner, the embedded runner
-- staying disabled when an admin disabled it, secret variables masked in build logs, and job runs of a dead node
-- closed and old ones pruned. (DbUp: bare $$ quoting only, never a lone ';' line.)

-- ---------------------------------------------------------------------------
-- Runner labels a project requires (e.g. odoo-19, big-memory): its builds go to runners holding all of them.
-- ---------------------------------------------------------------------------
alter table ops.projects add column runner_labels text[] not null default '{}'
    check (pg_catalog.cardinality(runner_labels) <= 32 and pg_catalog.array_position(runner_labels, null) is null);
comment on column ops.projects.runner_labels is 'Labels a runner must all have to take this project''s builds.';

create or replace function ops.builds_enqueue()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_stage  text;
    v_labels text[];
begin
    select b.stage into v_stage from ops.branches b where b.id = new.branch_id;
    select p.runner_labels into v_labels from ops.projects p where p.id = new.project_id;

    insert into ops.run_queue (build_id, project_id, priority, labels)
    values (
        new.id,
        new.project_id,
        case v_stage when 'production' then 300 when 'staging' then 200 else 100 end
      + case new.trigger when 'push' then 10 when 'schedule' then 0 else 20 end,   -- manual/api/rebuild
        coalesce(v_labels, '{}')
    )
    on conflict (build_id) do nothing;
    perform pg_catalog.pg_notify('ops_run_queue', new.project_id::text);
    return null;
end
$$;

-- ---------------------------------------------------------------------------
-- The embedded runner of `serve`: a fresh token at every start, but a runner an admin disabled stays disabled.
-- ---------------------------------------------------------------------------
create function ops.start_embedded_runner(p_name text, p_capacity int, p_labels text[], p_version text, p_token_hash bytea)
returns table (id uuid, disabled boolean)
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into ops.runners (org_id, name, labels, capacity, token_hash, version, last_seen_at, embedded)
    values (null, p_name, coalesce(p_labels, '{}'), p_capacity, p_token_hash, p_version, pg_catalog.now(), true)
    on conflict (name) where embedded do update
       set token_hash = excluded.token_hash, capacity = excluded.capacity, labels = excluded.labels,
           version = excluded.version, last_seen_at = excluded.last_seen_at
    returning ops.runners.id, ops.runners.disabled_at is not null;
$$;
revoke execute on function ops.start_embedded_runner(text, int, text[], text, bytea) from public;
grant execute on function ops.start_embedded_runner(text, int, text[], text, bytea) to ops_service;

-- ---------------------------------------------------------------------------
-- Secret variables of a leased build's stage, by name: the runner masks their values in the log it sends.
-- ---------------------------------------------------------------------------
create function ops.build_secret_names(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns text[]
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return coalesce((select pg_catalog.array_agg(v.name order by v.name)
                       from ops.builds b
                       join ops.branches br on br.id = b.branch_id
                       join ops.env_vars v on v.project_id = b.project_id and v.stage = br.stage and v.is_secret
                      where b.id = p_build_id), '{}');
end
$$;
revoke execute on function ops.build_secret_names(uuid, uuid, uuid) from public;
grant execute on function ops.build_secret_names(uuid, uuid, uuid) to ops_service;

-- ---------------------------------------------------------------------------
-- Scheduler bookkeeping. A run's node holds the tick's advisory lock until it has recorded the outcome, so a
-- 'running' row whose lock nobody holds belongs to a node that died: the scheduler lists the candidates, takes
-- each one's lock to prove it (in C#, where the lock key is computed) and closes it with ops.finish_job_run.
-- ---------------------------------------------------------------------------
create function ops.running_job_runs(p_started_before timestamptz)
returns table (id bigint, job text, scheduled_for timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.id, r.job, r.scheduled_for from ops.job_runs r
     where r.outcome = 'running' and r.scheduled_for is not null and r.started_at < p_started_before
     order by r.id;
$$;
revoke execute on function ops.running_job_runs(timestamptz) from public;
grant execute on function ops.running_job_runs(timestamptz) to ops_service;

-- Finished runs older than p_before, deleted (the retention job; a run every 30 s adds up to 2,880 rows a day).
-- A run's age is its tick, on the scheduler's clock like p_before (the start time for a run without a tick).
create function ops.delete_job_runs_before(p_before timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_deleted integer;
begin
    delete from ops.job_runs r where r.outcome <> 'running' and coalesce(r.scheduled_for, r.started_at) < p_before;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;
revoke execute on function ops.delete_job_runs_before(timestamptz) from public;
grant execute on function ops.delete_job_runs_before(timestamptz) to ops_service;

-- Project admins set the labels through the API (as ops_app; the projects_update policy decides who may).
grant update (runner_labels) on ops.projects to ops_app;
