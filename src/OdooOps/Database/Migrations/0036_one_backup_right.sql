-- One function decides a runner's right to a backup (ops_private.backup_right, which replaces the lease check its
-- report used), and cancelling a backup's task needs the role that may ask for it (ops.backup_role, which replaces the
-- cancel's own role function).
drop function if exists ops_private.held_backup_lease(uuid, uuid, uuid);
drop function if exists ops.runner_task_role(text, text);
