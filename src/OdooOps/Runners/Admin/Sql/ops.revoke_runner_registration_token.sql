-- Revokes a registration token of p_org_id (null: a shared one): runners already registered keep working; the token
-- registers no more. Answers its revoked_at (the first revocation's, when it already was).
create or replace function ops.revoke_runner_registration_token(p_org_id uuid, p_token_id uuid)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_revoked timestamptz;
begin
    if not ops_private.may_admin_runners(p_org_id) then
        if p_org_id is not null and ops.org_role(p_org_id) is not null then
            raise exception 'Revoking registration tokens needs the admin role in this org.' using errcode = '42501';
        end if;
        raise exception 'No such registration token.' using errcode = 'P0002';
    end if;
    update ops.runner_registration_tokens t set revoked_at = coalesce(t.revoked_at, pg_catalog.now())
     where t.id = p_token_id and t.org_id is not distinct from p_org_id
    returning t.revoked_at into v_revoked;
    if not found then
        raise exception 'No such registration token.' using errcode = 'P0002';
    end if;
    return v_revoked;
end
$$;
revoke all on function ops.revoke_runner_registration_token(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.revoke_runner_registration_token(uuid, uuid) to ops_app;
