-- Where a branch's database and filestore live: the runner it is pinned to (branches.runner_id), else the runner of
-- its current instance; with that instance and its database when it runs there. No row: no runner hosts the branch.
create or replace function ops_private.backup_host(p_branch_id uuid)
returns table (runner_id uuid, instance_id uuid, database_name text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select h.runner_id,
           case when i.runner_id = h.runner_id then i.id end,
           case when i.runner_id = h.runner_id then i.database_name end
      from ops.branches b
      left join ops.instances i on i.branch_id = b.id and i.is_current and i.retired_at is null
     cross join lateral (select coalesce(b.runner_id, i.runner_id) as runner_id) h
     where b.id = p_branch_id and h.runner_id is not null
$$;
revoke all on function ops_private.backup_host(uuid) from public, ops_app, ops_service;
