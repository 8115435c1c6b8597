-- runtime_unsupported (warning): the project's Odoo major is older than the three newest majors of
-- supported_runtimes (default ["17.0", "18.0", "19.0"]: anything below 17 is unsupported).
create or replace function ops.advisory_rule_runtime_unsupported(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    with majors as (
        select distinct substring(v from '^(?:saas-)?([0-9]+)\.')::int as major
          from jsonb_array_elements_text(coalesce(p_inputs -> 'supported_runtimes', '["17.0", "18.0", "19.0"]')) v),
    supported as (
        select min(major) as oldest, max(major) as newest, string_agg(major || '.0', ', ' order by major) as list
          from (select major from majors where major is not null order by major desc limit 3) t)
    select p.id, null::uuid, 'runtime_unsupported', 'runtime_unsupported:' || p.id, 'warning',
           'Odoo ' || p.runtime_version || ' is no longer supported',
           format('This project runs Odoo %s (major %s); supported are the three newest majors: %s.', p.runtime_version, v.major, s.list),
           format('Plan the upgrade to Odoo %s.0: create a staging branch on it, run the upgrade scripts there, then promote it.', s.newest),
           v.major::double precision
      from ops.projects p
     cross join supported s
     cross join lateral (select substring(p.runtime_version from '^(?:saas-)?([0-9]+)\.')::int as major) v
     where p.id = any (p_project_ids) and v.major < s.oldest
$$;
revoke all on function ops.advisory_rule_runtime_unsupported(uuid[], jsonb) from public, ops_app, ops_service;
