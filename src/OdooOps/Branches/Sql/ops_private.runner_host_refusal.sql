-- Why a runner cannot host this branch's instance, in words for an answer (its name first); null when it can. A runner
-- the acting user cannot see is "No such runner."; one of another organisation, disabled, serving builds only, or full
-- is refused. Full: its instances not yet retired (this branch's aside) and the other branches pinned to it that have
-- none there yet reach its instance_capacity. The one owner of "may this runner host that branch": ops.set_branch_runner
-- and ops.branch_host_runners (what the console offers) both ask it.
create or replace function ops_private.runner_host_refusal(p_branch_id uuid, p_runner_id uuid)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select case
               when r.id is null or not (r.org_id is null or r.org_id in (select pg_catalog.unnest(ops.visible_org_ids())))
                   then 'No such runner.'
               when r.org_id is not null and r.org_id <> p.org_id
                   then pg_catalog.format('%s is a runner of another organisation.', r.name)
               when r.disabled_at is not null then pg_catalog.format('%s is disabled.', r.name)
               when not r.serves_instances then pg_catalog.format('%s does not serve instances (it runs builds only).', r.name)
               when l.load >= r.instance_capacity
                   then pg_catalog.format('%s is full: %s of its %s instances are taken.', r.name, l.load, r.instance_capacity)
           end
      from ops.branches b
      join ops.projects p on p.id = b.project_id
      left join ops.runners r on r.id = p_runner_id
      left join lateral (
          select (select pg_catalog.count(*)
                    from ops.instances i
                   where i.runner_id = r.id and i.retired_at is null and i.branch_id <> b.id)
               + (select pg_catalog.count(*)
                    from ops.branches o
                   where o.runner_id = r.id and o.id <> b.id and o.archived_at is null
                     and not exists (select 1 from ops.instances i
                                      where i.branch_id = o.id and i.runner_id = r.id and i.retired_at is null)) as load
      ) l on true
     where b.id = p_branch_id
$$;
revoke all on function ops_private.runner_host_refusal(uuid, uuid) from public, ops_app, ops_service;
