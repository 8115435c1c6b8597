-- ops.ingest_tokens: Project admin+ list, create and revoke. The hash is never readable.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.ingest_tokens');
grant select (id, project_id, name, token_prefix, created_by, created_at, last_used_at, revoked_at, runner_id) on ops.ingest_tokens to ops_app;
grant insert (id, project_id, name, token_prefix, token_hash, created_by) on ops.ingest_tokens to ops_app;
grant update (name, revoked_at) on ops.ingest_tokens to ops_app;

create policy ingest_tokens_admin on ops.ingest_tokens
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin'))));
