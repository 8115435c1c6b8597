-- The least project role that may add, change or remove a stage's environment variables: admin on production (its
-- credentials are the operator's), developer on staging and development. The env_vars policies and the words of
-- ops.env_refusal read it from here.
create or replace function ops.env_write_role(p_stage text)
returns text
language sql
immutable
parallel safe
as $$
    select case when p_stage = 'production' then 'admin' else 'developer' end
$$;
revoke all on function ops.env_write_role(text) from public, ops_app, ops_service;
grant execute on function ops.env_write_role(text) to ops_app;
