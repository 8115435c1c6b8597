-- The org of the built-in system project "OdooOps" (slug 'odooops-system'): OdooOps' own health (error rate, p95, pool
-- use) is recorded against that project. Fixed ids, so nothing has to guess which org is the system's. The scan creates
-- both rows the first time it needs them (ops.ensure_system_project), not the schema, because the seed's step 5 lists
-- every project as the owner right after migrating and must find only its own. System admins become its members on
-- every scan.
create or replace function ops.system_org_id() returns uuid language sql immutable
as $$ select '00000000-0000-4000-8000-0000000005e0'::uuid $$;
revoke all on function ops.system_org_id() from public, ops_app, ops_service;
