-- Secret variables of a leased build, by name, as they were when it was queued (its snapshot; today's for a build
-- queued before snapshots existed): the runner masks their values in the log it sends.
create or replace function ops.build_secret_names(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns text[]
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    return coalesce((select s.secret_names from ops_private.build_snapshots s where s.build_id = p_build_id),
                    (select pg_catalog.array_agg(v.name order by v.name)
                       from ops.builds b
                       join ops.branches br on br.id = b.branch_id
                       join ops.env_vars v on v.project_id = b.project_id and v.stage = br.stage and v.is_secret
                      where b.id = p_build_id), '{}');
end
$$;
revoke all on function ops.build_secret_names(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.build_secret_names(uuid, uuid, uuid) to ops_service;
