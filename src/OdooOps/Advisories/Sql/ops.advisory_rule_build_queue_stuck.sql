-- build_queue_stuck (warning): a project has a build queued for more than queue_stuck_minutes (30).
create or replace function ops.advisory_rule_build_queue_stuck(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select q.project_id, null::uuid, 'build_queue_stuck', 'build_queue_stuck:' || q.project_id, 'warning', 'Builds stuck in the queue',
           format('%s build(s) queued for more than %s minutes; the oldest has waited %s minutes.', q.n,
                  ops.advisory_threshold(p_inputs, 'queue_stuck_minutes', 30), round(extract(epoch from now() - q.oldest) / 60)),
           'Check that a runner with matching labels is online and not disabled.',
           extract(epoch from now() - q.oldest)::double precision / 60
      from (select bu.project_id, count(*) as n, min(bu.queued_at) as oldest
              from ops.builds bu
             where bu.project_id = any (p_project_ids) and bu.status = 'queued'
               and bu.queued_at < now() - make_interval(mins => ops.advisory_threshold(p_inputs, 'queue_stuck_minutes', 30)::int)
             group by bu.project_id) q
$$;
revoke all on function ops.advisory_rule_build_queue_stuck(uuid[], jsonb) from public, ops_app, ops_service;
