-- A runner's instance sync: what it reports its instances are, then what they should be. Reports about instances
-- not placed on this runner, or already cleaned up, change nothing. Then, in this order:
--   switch:  a development or staging instance that now runs becomes its branch's current one, and the one it
--            replaces is retired (its database dropped with it); a production instance that now runs records the
--            downtime of its deploy (the old server's stop to the new one's first good answer);
--   expiry:  development instances past their time to live are retired;
--   deployments: the switched-to instance's deployment goes live (ops_private.record_deployment), production's records
--            its downtime as switch_ms, one whose instance failed before going live is failed, and one whose instance
--            retired (superseded, expired, archived) has ended;
--   answer:  every instance placed on this runner and not yet cleaned up, with its branch's settings and its stage's
--            variables as they are now (a restart picks up changes: env the plain ones, sealed_env the secrets as the
--            server sealed them, for it to open) with their revision (env_revision, read in the same statement, so
--            exactly the revision of those variables); a retired instance drops its database only when
--            no live instance of this runner uses it (a development or staging rollback runs on its predecessor's).
-- A report's env_revision is the revision of the variables the instance's server was started with (the runner keeps the
-- one that came with them); null from a runner that does not report it. EnvVars' restart-needed rule compares it with
-- the stage's revision: server counts only, no runner clock. It is kept at most at the stage's revision now: a runner
-- claiming one the stage has not reached would otherwise hide the restart its next change needs.
-- The runner row remembers when it last synced (ops.mark_lost_instances shows its instances as unknown after that).
create or replace function ops.sync_runner_instances(p_runner_id uuid, p_address text, p_reports jsonb)
returns table (instance_id uuid, project_id uuid, project_slug text, branch_id uuid, branch text, stage text, build_id uuid,
               odoo_version text, desired text, restart_generation int, retired boolean, database_name text,
               drop_database boolean, workers int, cron_threads int, memory_mb int, cpus numeric, env jsonb,
               sealed_env jsonb, secret_names text[], log_seq_next bigint, branch_label text, project_label text,
               env_revision bigint)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_new      ops.instances;
    v_runner   ops.runners;
    v_address  text;
    v_inet     inet;
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id and r.disabled_at is null for update;
    if not found then
        raise exception 'Unknown or disabled runner.' using errcode = 'OOR01';
    end if;
    -- The proxy connects where the runner says: an organisation's runner (run by a tenant) may name neither this
    -- host's loopback, link-local (cloud metadata) nor unspecified addresses, nor an address another runner holds;
    -- without one its instances are not routed. The embedded runner and shared runners (the operator's) may use loopback.
    v_address := nullif(pg_catalog.btrim(p_address), '');
    if v_address is not null and v_runner.org_id is not null and not v_runner.embedded then
        if v_address !~ '^[0-9a-fA-F.:]{2,45}$' then
            raise exception 'An organisation''s runner advertises an IP address (OPS_INSTANCE_ADDRESS), not "%".', v_address
                using errcode = '22023', column = 'address';
        end if;
        v_inet := v_address::inet;
        if v_inet <<= '127.0.0.0/8' or v_inet <<= '169.254.0.0/16' or v_inet <<= '0.0.0.0/8' or v_inet <<= '224.0.0.0/4'
           or v_inet = '::1' or v_inet <<= 'fe80::/10' or v_inet = '::' or v_inet <<= 'ff00::/8' then
            raise exception 'An organisation''s runner cannot advertise % (loopback, link-local, unspecified or multicast).', v_address
                using errcode = '22023', column = 'address';
        end if;
        if exists (select 1 from ops.runners o where o.instance_address = v_address and o.id <> p_runner_id) then
            raise exception 'Another runner advertises %.', v_address using errcode = '23505', column = 'address';
        end if;
    end if;
    update ops.runners r
       set instances_seen_at = pg_catalog.now(), last_seen_at = pg_catalog.now(), instance_address = v_address
     where r.id = p_runner_id;

    -- A cleaned report only says so: what the instance last was stays as reported before, but it has stopped by now (a
    -- retired server is stopped and cleaned in one go, so its stop may not have been reported on its own).
    update ops.instances i
       set cleaned_at = pg_catalog.now(), stopped_at = coalesce(i.stopped_at, pg_catalog.now())
      from pg_catalog.jsonb_to_recordset(coalesce(p_reports, '[]'::jsonb)) as x(instance_id uuid, cleaned boolean)
     where i.id = x.instance_id and i.runner_id = p_runner_id and i.cleaned_at is null and i.retired_at is not null
       and coalesce(x.cleaned, false);
    update ops.instances i
       set state = x.state, reason = pg_catalog.left(x.reason, 2000), http_port = x.http_port, gevent_port = x.gevent_port,
           pid = x.pid, restarts = greatest(x.restarts, 0), started_at = x.started_at, ready_at = x.ready_at,
           stopped_at = x.stopped_at,
           env_revision = case when x.env_revision >= 0
                               then least(x.env_revision, coalesce((select c.revision from ops.env_stage_changes c
                                                                     where c.project_id = i.project_id and c.stage = i.stage), 0)) end
      from pg_catalog.jsonb_to_recordset(coalesce(p_reports, '[]'::jsonb))
           as x(instance_id uuid, state text, reason text, http_port int, gevent_port int, pid int, restarts int,
                started_at timestamptz, ready_at timestamptz, stopped_at timestamptz, cleaned boolean, env_revision bigint)
     where i.id = x.instance_id and i.runner_id = p_runner_id and i.cleaned_at is null and not coalesce(x.cleaned, false)
       and x.state in ('starting', 'running', 'unhealthy', 'stopping', 'stopped', 'failed')
       and coalesce(x.http_port, 1024) between 1024 and 65535 and coalesce(x.gevent_port, 1024) between 1024 and 65535;

    -- switch: the newest running, not yet current, instance of a development or staging branch takes over.
    for v_new in
        select distinct on (n.branch_id) n.*
          from ops.instances n
         where n.runner_id = p_runner_id and n.state = 'running' and not n.is_current and n.retired_at is null
           and n.stage <> 'production' and n.desired = 'running'
         order by n.branch_id, n.created_at desc
    loop
        continue when exists (select 1 from ops.instances c where c.branch_id = v_new.branch_id and c.is_current
                                 and c.created_at > v_new.created_at);
        update ops.instances o
           set is_current = false, desired = 'stopped', retired_at = pg_catalog.now(),
               reason = 'superseded by build ' || v_new.build_id::text
         where o.branch_id = v_new.branch_id and o.id <> v_new.id and o.retired_at is null and o.created_at < v_new.created_at;
        update ops.instances n set is_current = true where n.id = v_new.id;
        perform ops_private.record_deployment(v_new.id);
    end loop;

    update ops.instances n
       set downtime_ms = greatest(0, (extract(epoch from n.ready_at - o.stopped_at) * 1000)::bigint)
      from ops.instances o
     where n.runner_id = p_runner_id and n.stage = 'production' and n.state = 'running' and n.downtime_ms is null
       and n.replaces_id = o.id and o.stopped_at is not null and n.ready_at is not null;

    update ops.instances i
       set desired = 'stopped', retired_at = pg_catalog.now(), is_current = false,
           reason = 'expired: development instances live ' || pg_catalog.justify_interval(p.dev_instance_ttl)::text
      from ops.projects p
     where p.id = i.project_id and i.runner_id = p_runner_id and i.retired_at is null
       and i.expires_at is not null and i.expires_at <= pg_catalog.now();

    -- Instances of archived branches or projects stop for good (nothing routes to them any more).
    update ops.instances i
       set desired = 'stopped', retired_at = pg_catalog.now(), is_current = false,
           reason = 'stopped: its branch or project was archived'
      from ops.branches b join ops.projects p on p.id = b.project_id
     where b.id = i.branch_id and i.runner_id = p_runner_id and i.retired_at is null
       and (b.archived_at is not null or p.archived_at is not null);

    update ops.deployments d
       set switch_ms = i.downtime_ms
      from ops.instances i
     where d.instance_id = i.id and i.runner_id = p_runner_id and d.switch_ms is null and i.downtime_ms is not null
       and d.status = 'live';
    update ops.deployments d
       set status = case when d.status = 'live' or i.state <> 'failed' then 'superseded' else 'failed' end,
           ended_at = pg_catalog.now(), reason = coalesce(d.reason, pg_catalog.left(i.reason, 2000))
      from ops.instances i
     where d.instance_id = i.id and i.runner_id = p_runner_id and d.status in ('deploying', 'live')
       and (i.retired_at is not null or (d.status = 'deploying' and i.state = 'failed'));

    -- The runner's ingest tokens of projects it no longer hosts stop working.
    update ops.ingest_tokens t set revoked_at = pg_catalog.now()
     where t.runner_id = p_runner_id and t.revoked_at is null
       and not exists (select 1 from ops.instances i where i.runner_id = p_runner_id and i.project_id = t.project_id
                          and i.retired_at is null);

    return query
    select i.id, i.project_id, p.slug, i.branch_id, br.name, i.stage, i.build_id, p.runtime_version, i.desired,
           i.restart_generation, i.retired_at is not null, i.database_name,
           i.drop_database and not exists (select 1 from ops.instances o where o.runner_id = i.runner_id and o.id <> i.id
                                              and o.database_name = i.database_name and o.retired_at is null),
           br.instance_workers,
           br.instance_cron_threads, br.instance_memory_mb, br.instance_cpus,
           coalesce((select pg_catalog.jsonb_object_agg(v.name, v.value) filter (where v.value is not null) from ops.env_vars v
                      where v.project_id = i.project_id and v.stage = i.stage), '{}'::jsonb),
           coalesce((select pg_catalog.jsonb_object_agg(v.name, v.sealed) filter (where v.sealed is not null) from ops.env_vars v
                      where v.project_id = i.project_id and v.stage = i.stage), '{}'::jsonb),
           coalesce((select pg_catalog.array_agg(v.name order by v.name) from ops.env_vars v
                      where v.project_id = i.project_id and v.stage = i.stage and v.is_secret), '{}'),
           greatest(i.log_seq_next, coalesce((select pg_catalog.max(l.seq) + 1 from ops.instance_logs l where l.instance_id = i.id), 0)),
           br.host_label, p.host_label,
           coalesce((select c.revision from ops.env_stage_changes c where c.project_id = i.project_id and c.stage = i.stage), 0)
      from ops.instances i
      join ops.projects p on p.id = i.project_id
      join ops.branches br on br.id = i.branch_id
     where i.runner_id = p_runner_id and i.cleaned_at is null
     order by i.created_at;
end
$$;
revoke all on function ops.sync_runner_instances(uuid, text, jsonb) from public, ops_app, ops_service;
grant execute on function ops.sync_runner_instances(uuid, text, jsonb) to ops_service;
