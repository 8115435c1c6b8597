-- An org admin (a system admin for shared runners, p_org_id null) issues a registration token (its hash).
create or replace function ops.create_runner_registration_token(p_org_id uuid, p_token_hash bytea, p_expires_at timestamptz)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_id uuid;
begin
    if (p_org_id is null and not ops.is_system_admin())
       or (p_org_id is not null and ops.role_rank(ops.org_role(p_org_id)) < ops.role_rank('admin')) then
        raise exception 'Registering runners needs the admin role in this org.' using errcode = '42501';
    end if;
    insert into ops.runner_registration_tokens (org_id, token_hash, created_by, expires_at)
    values (p_org_id, p_token_hash, ops.current_user_id(), p_expires_at)
    returning id into v_id;
    return v_id;
end
$$;
revoke all on function ops.create_runner_registration_token(uuid, bytea, timestamptz) from public, ops_app, ops_service;
grant execute on function ops.create_runner_registration_token(uuid, bytea, timestamptz) to ops_app;
