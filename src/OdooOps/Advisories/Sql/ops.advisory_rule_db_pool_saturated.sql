-- db_pool_saturated (warning, server rule): the fullest connection pool above db_pool_pct (80). See
-- ops.advisory_rule_error_rate_high for how the server rules are measured.
create or replace function ops.advisory_rule_db_pool_saturated(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'db_pool_saturated', 'db_pool_saturated:' || id, 'warning', 'OdooOps database pool nearly full',
           format('Pool %s uses %s of %s connections (%s%%; threshold %s%%).', x.s ->> 'pool', x.s ->> 'pool_used', x.s ->> 'pool_max',
                  round((x.s ->> 'pool_usage_pct')::numeric, 1), ops.advisory_threshold(p_inputs, 'db_pool_pct', 80)),
           'Look for long transactions or slow queries holding connections; raise Maximum Pool Size within the server''s max_connections.',
           (x.s ->> 'pool_usage_pct')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'pool_usage_pct')::double precision > ops.advisory_threshold(p_inputs, 'db_pool_pct', 80)
$$;
revoke all on function ops.advisory_rule_db_pool_saturated(uuid[], jsonb) from public, ops_app, ops_service;
