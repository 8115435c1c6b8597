-- A build inserted as queued gets its run_queue row: priority by stage (production 300, staging 200, development 100)
-- plus trigger (manual/api/rebuild 20, push 10, schedule 0), and the project's runner labels at that moment. Wakes the
-- runners' long polls (NOTIFY ops_run_queue). It also snapshots what the build runs with — its branch's stage and that
-- stage's variables, secrets included (sealed, as the variables keep them) — into the owner-only
-- ops_private.build_snapshots, which the claim reads: a build gets the stage, environment and secrets of the moment it
-- was queued, not of the moment a runner took it.
-- SECURITY DEFINER: the app has no rights on the queue, and a tester queueing a build cannot read the variables.
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
    insert into ops_private.build_snapshots (build_id, stage, env, sealed_env, secret_names)
    select new.id, v_stage,
           coalesce(pg_catalog.jsonb_object_agg(v.name, v.value) filter (where v.value is not null), '{}'),
           coalesce(pg_catalog.jsonb_object_agg(v.name, v.sealed) filter (where v.sealed is not null), '{}'),
           coalesce(pg_catalog.array_agg(v.name order by v.name) filter (where v.is_secret), '{}')
      from ops.env_vars v
     where v.project_id = new.project_id and v.stage = v_stage
    on conflict (build_id) do nothing;
    perform pg_catalog.pg_notify('ops_run_queue', new.project_id::text);
    return null;
end
$$;
revoke all on function ops.builds_enqueue() from public, ops_app, ops_service;
