-- error_rate_high (critical, server rule): the 5xx share of this server's requests above error_rate_pct (1).
-- The server rules judge OdooOps itself, from the answering process' own metrics (inputs.server, measured by the host
-- over the requests since its last judged window), against the seed's alert thresholds; their findings belong to the
-- system project.
create or replace function ops.advisory_rule_error_rate_high(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select id, null::uuid, 'error_rate_high', 'error_rate_high:' || id, 'critical', 'OdooOps answers with server errors',
           format('%s%% of %s requests in the last %s minutes answered with a 5xx (threshold %s%%).', round((x.s ->> 'error_rate_pct')::numeric, 2),
                  x.s ->> 'requests', x.s ->> 'window_minutes', ops.advisory_threshold(p_inputs, 'error_rate_pct', 1)),
           'Read the server log for the failing routes (odooops_http_errors_total on /metrics names them); check the database and the last upgrade.',
           (x.s ->> 'error_rate_pct')::double precision
      from unnest(p_project_ids) id, (select p_inputs -> 'server' as s) x
     where id = ops.system_project_id()
       and (x.s ->> 'error_rate_pct')::double precision > ops.advisory_threshold(p_inputs, 'error_rate_pct', 1)
$$;
revoke all on function ops.advisory_rule_error_rate_high(uuid[], jsonb) from public, ops_app, ops_service;
