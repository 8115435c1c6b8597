-- The releases (build ids) a runner keeps: those of its instances not yet cleaned up, and the newest p_per_branch of
-- each branch it hosted (what a rollback can go back to). It may delete any other release folder.
create or replace function ops.runner_kept_releases(p_runner_id uuid, p_per_branch int)
returns setof uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select kept.build_id
      from (select i.build_id, i.cleaned_at, pg_catalog.row_number() over (partition by i.branch_id order by i.created_at desc) as n
              from ops.instances i where i.runner_id = p_runner_id) kept
     where kept.cleaned_at is null or kept.n <= p_per_branch
$$;
revoke all on function ops.runner_kept_releases(uuid, int) from public, ops_app, ops_service;
grant execute on function ops.runner_kept_releases(uuid, int) to ops_service;
