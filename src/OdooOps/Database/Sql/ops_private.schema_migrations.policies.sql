-- ops_private.schema_migrations: /readyz (run as ops_service) compares the migration journal with the binary's scripts.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops_private.schema_migrations');
grant select on ops_private.schema_migrations to ops_service;

create policy schema_migrations_read on ops_private.schema_migrations for select to ops_service using (true);
