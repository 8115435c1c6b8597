-- Project activity (for "recently active first" lists). SECURITY DEFINER
-- because updating ops.projects needs admin rights the acting user may lack.
-- Best effort: if another transaction holds the project row (e.g. it is
-- bumping it too), skip rather than wait, so concurrent builds and branch
-- changes of one project never queue up behind each other on this row.
create or replace function ops.bump_project_activity()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update ops.projects p
       set last_activity_at = pg_catalog.now()
     where p.id = (select p2.id
                     from ops.projects p2
                    where p2.id = new.project_id
                      and p2.last_activity_at < pg_catalog.now()   -- at most once per transaction
                      for no key update skip locked);
    return null;
end
$$;
revoke all on function ops.bump_project_activity() from public, ops_app, ops_service;
