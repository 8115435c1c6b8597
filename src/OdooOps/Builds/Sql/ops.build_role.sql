-- The least project role that may build a branch of this stage, or cancel its builds: developer on production,
-- tester on staging and development. ops.can_build and the words of ops.build_refusal read it from here.
create or replace function ops.build_role(p_stage text)
returns text
language sql
immutable
parallel safe
as $$
    select case when p_stage = 'production' then 'developer' else 'tester' end
$$;
revoke all on function ops.build_role(text) from public, ops_app, ops_service;
grant execute on function ops.build_role(text) to ops_app;
