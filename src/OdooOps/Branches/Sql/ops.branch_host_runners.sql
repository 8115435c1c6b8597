-- The runners a branch could be pinned to that the acting user sees (the runners_select policy: the project's
-- organisation's, to its members, and the shared ones): instances placed on each (not retired, whoever's), and why it cannot host this branch (null: it can). Nothing
-- for a branch the caller cannot see.
create or replace function ops.branch_host_runners(p_project_id uuid, p_branch_id uuid)
returns table (runner_id uuid, name text, shared boolean, instances_placed int, instance_capacity int, refusal text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.id, r.name, r.org_id is null,
           (select pg_catalog.count(*)::int from ops.instances i where i.runner_id = r.id and i.retired_at is null),
           r.instance_capacity,
           ops_private.runner_host_refusal(b.id, r.id)
      from ops.branches b
      join ops.projects p on p.id = b.project_id
      join ops.runners r on r.org_id = p.org_id or r.org_id is null
     where b.id = p_branch_id
       and b.project_id = p_project_id
       and b.archived_at is null
       and p.id in (select pg_catalog.unnest(ops.visible_project_ids()))
       and ((r.org_id is not null and r.org_id in (select pg_catalog.unnest(ops.visible_org_ids())))
            or (r.org_id is null and ops.active_user_id() is not null))
     order by r.org_id is null, r.name, r.id
$$;
revoke all on function ops.branch_host_runners(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.branch_host_runners(uuid, uuid) to ops_app;
