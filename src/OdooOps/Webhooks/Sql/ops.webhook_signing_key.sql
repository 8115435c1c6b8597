-- The key that signs this project's hooks; null for an unknown or archived project, or one without a secret.
-- FOR SHARE holds the row until the caller's transaction ends, so a rotation waits for a hook already verified
-- with the old key, and every hook that starts after the rotation commits sees only the new key.
create or replace function ops.webhook_signing_key(p_project_id uuid)
returns text
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    select w.secret
      from ops_private.project_webhooks w
      join ops.projects p on p.id = w.project_id
     where w.project_id = p_project_id
       and p.archived_at is null
       for share of w
$$;
revoke all on function ops.webhook_signing_key(uuid) from public, ops_app, ops_service;
grant execute on function ops.webhook_signing_key(uuid) to ops_service;
