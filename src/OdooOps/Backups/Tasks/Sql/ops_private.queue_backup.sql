-- STAND-IN until H4's ops_private.queue_backup is merged (this file then goes: the build fails on the second file of
-- this name). Only what a build's backup needs: a pending backup of the branch, taken by the build (no task).
create or replace function ops_private.queue_backup(p_branch_id uuid, p_kind text, p_requested_by uuid, p_build_id uuid)
returns uuid
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
    insert into ops.backups (project_id, branch_id, kind, requested_by, build_id)
    select br.project_id, br.id, p_kind, p_requested_by, p_build_id from ops.branches br where br.id = p_branch_id
    returning id
$$;
revoke all on function ops_private.queue_backup(uuid, text, uuid, uuid) from public, ops_app, ops_service;
