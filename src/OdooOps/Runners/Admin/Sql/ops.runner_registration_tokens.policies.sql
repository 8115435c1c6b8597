-- ops.runner_registration_tokens: Not writable by the app (the runner admin functions write); token hashes are never granted. Org
-- owner/admin read their org's; system admins the shared ones.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.runner_registration_tokens');
grant select (id, org_id, created_by, created_at, expires_at, used_at, revoked_at) on ops.runner_registration_tokens to ops_app;

create policy runner_registration_tokens_select on ops.runner_registration_tokens
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           or (org_id is null and (select ops.is_system_admin())));
