-- For project admins (ops_app): is a secret set, since when; and a new one.
create or replace function ops.webhook_settings(p_project_id uuid)
returns table (secret_set boolean, rotated_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.require_project_admin(p_project_id, 'Seeing the webhook settings');
    return query
        select w.project_id is not null, w.rotated_at
          from (select 1) one
          left join ops_private.project_webhooks w on w.project_id = p_project_id;
end
$$;
revoke all on function ops.webhook_settings(uuid) from public, ops_app, ops_service;
grant execute on function ops.webhook_settings(uuid) to ops_app;
