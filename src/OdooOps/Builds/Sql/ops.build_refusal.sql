-- Why the acting user may not build on this branch (p_action 'build') or cancel its builds ('cancel'), in words for
-- an answer; null when ops.can_build allows it (or the branch is not in the project).
create or replace function ops.build_refusal(p_project_id uuid, p_branch_id uuid, p_action text)
returns text
language sql
stable
as $$
    select pg_catalog.format('%s %s needs the %s role or higher; you are %s.',
               case p_action when 'cancel' then 'Cancelling builds of' else 'Building' end,
               case when b.stage = 'production' then 'the production branch' else 'this branch' end,
               ops.build_role(b.stage),
               coalesce(ops.project_role(p_project_id), 'no member'))
      from ops.branches b
     where b.id = p_branch_id
       and b.project_id = p_project_id
       and not ops.can_build(p_project_id, p_branch_id)
$$;
revoke all on function ops.build_refusal(uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.build_refusal(uuid, uuid, text) to ops_app;
