-- The least project role that may ask for a task of this kind on a branch of this stage, or cancel it: a restore into
-- production needs an admin (it replaces the live database); a backup, a verification, or a restore into staging or
-- development needs what a build of that stage needs (ops.build_role: developer on production, tester elsewhere).
create or replace function ops.runner_task_role(p_kind text, p_stage text)
returns text
language sql
immutable
parallel safe
as $$
    select case when p_kind = 'restore' and p_stage = 'production' then 'admin' else ops.build_role(p_stage) end
$$;
revoke all on function ops.runner_task_role(text, text) from public, ops_app, ops_service;
grant execute on function ops.runner_task_role(text, text) to ops_app;
