-- instance_failed (critical on production, warning elsewhere): an instance of a branch that should run (desired
-- 'running', not retired) is 'failed': its runner gave up restarting it. One advisory per branch (its newest failed
-- instance); it resolves once no such instance is left (it runs again, is stopped on purpose, or was replaced).
-- Measured: the failed instance's restarts.
create or replace function ops.advisory_rule_instance_failed(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select distinct on (i.branch_id)
           i.project_id, i.branch_id, 'instance_failed', 'instance_failed:' || i.branch_id,
           case when 'production' in (i.stage, b.stage) then 'critical' else 'warning' end,
           'Odoo instance of ' || b.name || ' failed',
           format('The %s instance of %s (build %s%s) failed after %s restart(s)%s.', i.stage, b.name, left(i.build_id::text, 8),
                  coalesce(', commit ' || left(bu.commit_sha, 12), ''), i.restarts, coalesce(': ' || i.reason, '')),
           format('Read the instance''s log (odooops instances logs %s, or its page in the console) for the error: a module that fails to load, '
                  || 'a missing Python dependency, the database, or the memory limit. Fix it and push a new build, or restart the instance once the cause is gone.', i.id),
           i.restarts::double precision
      from ops.instances i
      join ops.branches b on b.id = i.branch_id and b.archived_at is null
      join ops.builds bu on bu.id = i.build_id
     where i.project_id = any (p_project_ids)
       and i.state = 'failed' and i.desired = 'running' and i.retired_at is null
     order by i.branch_id, i.created_at desc
$$;
revoke all on function ops.advisory_rule_instance_failed(uuid[], jsonb) from public, ops_app, ops_service;
