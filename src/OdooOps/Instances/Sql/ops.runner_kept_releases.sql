-- The releases (build ids) a runner keeps: those of its instances not yet cleaned up, and those of the newest 3 instances
-- of each branch it hosted (what a rollback can go back to: ops.rollback_deployment asks this same function). It may
-- delete any other release folder.
create or replace function ops.runner_kept_releases(p_runner_id uuid)
returns setof uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select distinct kept.build_id
      from (select i.build_id, i.cleaned_at, pg_catalog.row_number() over (partition by i.branch_id order by i.created_at desc) as n
              from ops.instances i where i.runner_id = p_runner_id) kept
     where kept.cleaned_at is null or kept.n <= 3
$$;
revoke all on function ops.runner_kept_releases(uuid) from public, ops_app, ops_service;
grant execute on function ops.runner_kept_releases(uuid) to ops_service;
