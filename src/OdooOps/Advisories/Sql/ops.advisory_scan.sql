-- The scan for SQL callers (psql, the seed's curl through the function endpoint): the same scan as
-- ops.run_advisory_scan with default thresholds and no server measurements (the server rules are held).
-- Returns the number of advisories created.
create or replace function ops.advisory_scan(p_project_id uuid default null)
returns integer
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    select s.advisories_created from ops.run_advisory_scan(p_project_id, '{}') s
$$;
revoke all on function ops.advisory_scan(uuid) from public, ops_app, ops_service;
grant execute on function ops.advisory_scan(uuid) to ops_service;
