-- Why the acting user may not change this stage's environment variables, in words for an answer; null when they may
-- (their role on the project is at least ops.env_write_role of the stage).
create or replace function ops.env_refusal(p_project_id uuid, p_stage text)
returns text
language sql
stable
as $$
    select pg_catalog.format('Changing %s variables needs the %s role or higher; you are %s.',
               case when p_stage = 'production' then 'production''s' else 'this stage''s' end,
               ops.env_write_role(p_stage), coalesce(ops.project_role(p_project_id), 'no member'))
     where ops.role_rank(ops.project_role(p_project_id)) < ops.role_rank(ops.env_write_role(p_stage))
$$;
revoke all on function ops.env_refusal(uuid, text) from public, ops_app, ops_service;
grant execute on function ops.env_refusal(uuid, text) to ops_app;
