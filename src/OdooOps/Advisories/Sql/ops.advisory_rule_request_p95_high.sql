-- request_p95_high (warning, server rule): the p95 of this server's requests above p95_ms (500). See
-- ops.advisory_rule_error_rate_high for how the server rules are measured.
create or replace function ops.advisory_rule_request_p95_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'request_p95_high', 'request_p95_high:' || id, 'warning', 'OdooOps answers slowly',
           format('The 95th percentile of %s requests in the last %s minutes took %s ms (threshold %s ms).', x.s ->> 'requests',
                  x.s ->> 'window_minutes', round((x.s ->> 'p95_ms')::numeric), ops.advisory_threshold(p_inputs, 'p95_ms', 500)),
           'Find the slow routes (odooops_http_request_duration_seconds on /metrics); check database load and the pool.',
           (x.s ->> 'p95_ms')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'p95_ms')::double precision > ops.advisory_threshold(p_inputs, 'p95_ms', 500)
$$;
revoke all on function ops.advisory_rule_request_p95_high(uuid[], jsonb) from public, ops_app, ops_service;
