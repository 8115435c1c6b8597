-- The built-in system project "OdooOps" (see ops.system_org_id).
create or replace function ops.system_project_id() returns uuid language sql immutable
as $$ select '00000000-0000-4000-8000-0000000005e1'::uuid $$;
revoke all on function ops.system_project_id() from public, ops_app, ops_service;
