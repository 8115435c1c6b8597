-- Why the acting user may not add, check or remove the domains of this branch, in words for an answer; null when
-- they may. The rule is the builds' (ops.can_build): developer and above on every branch, tester on staging and
-- development only, viewer never. Null too when the branch is not in the project (the callers answer "not found").
create or replace function ops.domain_refusal(p_project_id uuid, p_branch_id uuid)
returns text
language sql
stable
as $$
    select pg_catalog.format('Managing the domains of %s needs the %s role or higher; you are %s.',
               case when b.stage = 'production' then 'the production branch' else 'this branch' end,
               ops.build_role(b.stage),
               coalesce(ops.project_role(p_project_id), 'no member'))
      from ops.branches b
     where b.id = p_branch_id
       and b.project_id = p_project_id
       and not ops.can_build(p_project_id, p_branch_id)
$$;
revoke all on function ops.domain_refusal(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.domain_refusal(uuid, uuid) to ops_app;
