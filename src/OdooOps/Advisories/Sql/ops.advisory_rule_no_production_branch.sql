-- no_production_branch: info while a project has no branches at all (just created), warning once it has some.
create or replace function ops.advisory_rule_no_production_branch(p_project_ids uuid[], p_inputs jsonb)
returns setof ops.advisory_finding language sql stable set search_path = pg_catalog, pg_temp
as $$
    select p.id, null::uuid, 'no_production_branch', 'no_production_branch:' || p.id,
           case when n.branches = 0 then 'info' else 'warning' end, 'No production branch',
           case when n.branches = 0 then 'This project has no branches yet, so nothing is deployed to production.'
                else format('None of this project''s %s branch(es) is production, so nothing is deployed to production and metrics have no default branch.', n.branches) end,
           'Create a production branch or promote an existing branch to production.',
           n.branches::double precision
      from ops.projects p
     cross join lateral (select count(*) as branches from ops.branches b where b.project_id = p.id and b.archived_at is null) n
     where p.id = any (p_project_ids)
       and not exists (select 1 from ops.branches b where b.project_id = p.id and b.stage = 'production' and b.archived_at is null)
$$;
revoke all on function ops.advisory_rule_no_production_branch(uuid[], jsonb) from public, ops_app, ops_service;
