-- Unknown / null roles rank 0, i.e. below every real role.
create or replace function ops.role_rank(p_role text)
returns int
language sql
immutable
parallel safe
as $$
    select case p_role
               when 'viewer' then 1
               when 'tester' then 2
               when 'developer' then 3
               when 'admin' then 4
               when 'owner' then 5
               else 0
           end
$$;
revoke all on function ops.role_rank(text) from public, ops_app, ops_service;
grant execute on function ops.role_rank(text) to ops_app;
