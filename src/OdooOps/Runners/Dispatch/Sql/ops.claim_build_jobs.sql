-- Leases up to p_max queued builds for a runner, within its free capacity (its capacity minus the leases it holds)
-- and its labels (a build's required labels must all be the runner's), an org runner taking its org's builds only.
-- Order: priority (production > staging > development, manual > push; set on enqueue), then age. One statement
-- picks and leases: SKIP LOCKED lets concurrent claims pass each other instead of queueing on the same rows, and
-- locking the build row too keeps a claim from deadlocking with a cancel of the same build. The runner row is
-- locked first so that one runner's concurrent polls cannot together exceed its capacity. The stage and variables are
-- those of the moment the build was queued (ops_private.build_snapshots); a build queued before snapshots existed
-- gets today's. env holds the plain values, sealed_env the secrets as the server sealed them (it opens them). Placement: a branch pinned to a runner host (its production or staging instance's filestore lives
-- there) is built by that runner only, and not while a restore of the branch runs; a runner whose instance slots are all taken builds only pinned branches (their
-- new instance replaces the one it hosts).
create or replace function ops.claim_build_jobs(p_runner_id uuid, p_max int, p_lease_seconds int)
returns table (build_id uuid, lease_id uuid, lease_until timestamptz, attempt int, project_id uuid, project_slug text,
               odoo_version text, repo_url text, commit_sha text, branch text, stage text, trigger text,
               log_seq_start bigint, env jsonb, sealed_env jsonb)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $$
declare
    v_runner  ops.runners;
    v_free    int;
    v_full    boolean;
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
    v_full := v_runner.serves_instances and v_runner.instance_capacity <=
              (select pg_catalog.count(*) from ops.instances i where i.runner_id = p_runner_id and i.retired_at is null);

    return query
    with picked as (
        select q.build_id
          from ops.run_queue q
          join ops.builds b on b.id = q.build_id
         where q.state = 'queued' and q.available_at <= pg_catalog.now()
           and q.labels operator(pg_catalog.<@) v_runner.labels
           and (v_runner.org_id is null
                or exists (select 1 from ops.projects p where p.id = q.project_id and p.org_id = v_runner.org_id))
           and not exists (select 1 from ops.branches pin where pin.id = b.branch_id and pin.runner_id <> p_runner_id)
           and (not v_full or exists (select 1 from ops.branches pin where pin.id = b.branch_id and pin.runner_id = p_runner_id))
           -- A restore replacing the branch's database runs first: a build updating it meanwhile would be swapped out.
           and not exists (select 1 from ops.runner_tasks t where t.branch_id = b.branch_id and t.kind = 'restore' and t.status = 'running')
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
           s.commit_sha, br.name, coalesce(snap.stage, br.stage), s.trigger,
           coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = l.build_id), 0),
           coalesce(snap.env,
                    (select pg_catalog.jsonb_object_agg(v.name, v.value) filter (where v.value is not null) from ops.env_vars v
                      where v.project_id = s.project_id and v.stage = br.stage), '{}'::jsonb),
           coalesce(snap.sealed_env,
                    (select pg_catalog.jsonb_object_agg(v.name, v.sealed) filter (where v.sealed is not null) from ops.env_vars v
                      where v.project_id = s.project_id and v.stage = br.stage), '{}'::jsonb)
      from leased l
      join started s on s.id = l.build_id
      join ops.projects p on p.id = s.project_id
      join ops.branches br on br.id = s.branch_id
      left join ops_private.build_snapshots snap on snap.build_id = l.build_id
     order by l.priority desc, l.enqueued_at;
end
$$;
revoke all on function ops.claim_build_jobs(uuid, int, int) from public, ops_app, ops_service;
grant execute on function ops.claim_build_jobs(uuid, int, int) to ops_service;
