-- Live branches of a project with their latest build:
-- production first, then staging, then development, then by name.
create or replace function ops.project_branches(p_project_id uuid)
returns table (
    id                 uuid,
    project_id         uuid,
    name               text,
    stage              text,
    is_production      boolean,
    created_at         timestamptz,
    updated_at         timestamptz,
    last_build_id      uuid,
    last_build_status  text,
    last_build_at      timestamptz
)
language sql
stable
as $$
    select b.id, b.project_id, b.name, b.stage, b.is_production, b.created_at, b.updated_at,
           lb.id, lb.status, lb.created_at
      from ops.branches b
      left join lateral (
            select bu.id, bu.status, bu.created_at
              from ops.builds bu
             where bu.branch_id = b.id
             order by bu.created_at desc   -- matches the (…, created_at desc) index: one row read
             limit 1
           ) lb on true
     where b.project_id = p_project_id
       and b.archived_at is null
     order by case b.stage when 'production' then 0 when 'staging' then 1 else 2 end, b.name
$$;
revoke all on function ops.project_branches(uuid) from public, ops_app, ops_service;
grant execute on function ops.project_branches(uuid) to ops_app;
