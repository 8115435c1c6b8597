-- Projects with their production branch, latest build and open advisory
-- count; most recently active first. Archived projects are excluded.
create or replace function ops.list_projects()
returns table (
    id                    uuid,
    org_id                uuid,
    name                  text,
    slug                  text,
    repo_url              text,
    runtime_version       text,
    created_at            timestamptz,
    updated_at            timestamptz,
    last_activity_at      timestamptz,
    production_branch_id  uuid,
    production_branch     text,
    last_build_id         uuid,
    last_build_status     text,
    last_build_at         timestamptz,
    open_advisories       int
)
language sql
stable
as $$
    select p.id, p.org_id, p.name, p.slug, p.repo_url, p.runtime_version,
           p.created_at, p.updated_at, p.last_activity_at,
           pb.id, pb.name,
           lb.id, lb.status, lb.created_at,
           coalesce(adv.n, 0)::int
      from ops.projects p
      left join lateral (
            select b.id, b.name
              from ops.branches b
             where b.project_id = p.id
               and b.stage = 'production'
               and b.archived_at is null
             limit 1
           ) pb on true
      left join lateral (
            select bu.id, bu.status, bu.created_at
              from ops.builds bu
             where bu.project_id = p.id
             order by bu.created_at desc   -- matches the (…, created_at desc) index: one row read
             limit 1
           ) lb on true
      left join lateral (
            select count(*) as n
              from ops.advisories a
             where a.project_id = p.id
               and a.status = 'open'
           ) adv on true
     where p.archived_at is null
     order by p.last_activity_at desc, p.name, p.id
$$;
revoke all on function ops.list_projects() from public, ops_app, ops_service;
grant execute on function ops.list_projects() to ops_app;
