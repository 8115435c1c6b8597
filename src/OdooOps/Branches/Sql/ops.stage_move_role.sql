-- The least project role that may move a branch from one stage to another (p_from null: create it in p_to): admin when
-- production is on either side, developer between development and staging. ops.set_branch_stage and ops.create_branch
-- hold to it; the console asks it which moves to offer. (The branches_write policy says the same of rows: production needs admin, other stages developer.)
create or replace function ops.stage_move_role(p_from text, p_to text)
returns text
language sql
immutable
parallel safe
as $$
    select case when 'production' in (p_from, p_to) then 'admin' else 'developer' end
$$;
revoke all on function ops.stage_move_role(text, text) from public, ops_app, ops_service;
grant execute on function ops.stage_move_role(text, text) to ops_app;
