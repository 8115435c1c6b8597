-- The least project role that may back up a branch of this stage, download, verify or import its backups, or restore a
-- backup into it: admin on production, tester on staging and development. Odoo.sh's rule: only admins reach production's
-- backups (they are the customer's data), while testers work on staging and development, which hold copies of it.
-- ops.can_manage_backups and the refusals' words read it from here.
create or replace function ops.backup_role(p_stage text)
returns text
language sql
immutable
parallel safe
as $$
    select case when p_stage = 'production' then 'admin' else 'tester' end
$$;
revoke all on function ops.backup_role(text) from public, ops_app, ops_service;
grant execute on function ops.backup_role(text) to ops_app;
