-- Advisories, all visible projects when p_project_id is null, any status
-- when p_status is null. Most severe first, then most recently seen.
create or replace function ops.list_advisories(
    p_project_id uuid default null,
    p_status text default 'open')
returns setof ops.advisories
language sql
stable
as $$
    select a.*
      from ops.advisories a
     where (p_project_id is null or a.project_id = p_project_id)
       and (p_status is null or a.status = p_status)
     order by case a.severity when 'critical' then 0 when 'warning' then 1 else 2 end,
              a.last_seen_at desc,
              a.id
$$;
revoke all on function ops.list_advisories(uuid, text) from public, ops_app, ops_service;
grant execute on function ops.list_advisories(uuid, text) to ops_app;
