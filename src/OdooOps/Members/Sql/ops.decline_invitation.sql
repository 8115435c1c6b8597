-- The invitee declines: the invitation is gone and the organisation's audit log says so (member.decline). Another
-- user's, an expired or an unknown invitation is SQLSTATE P0002 (404) alike.
create or replace function ops.decline_invitation(p_invitation_id uuid, p_ip inet)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v ops.member_invitations;
begin
    delete from ops.member_invitations i
     where i.id = p_invitation_id and i.email = ops_private.invitee_email() and i.expires_at > pg_catalog.now()
    returning * into v;
    if not found then
        raise exception 'No such invitation.' using errcode = 'P0002';
    end if;
    perform ops.write_audit('user', 'member.decline', 'user', ops.current_user_id()::text, v.org_id, v.project_id, null,
        pg_catalog.jsonb_build_object('email', v.email, 'role', v.role, 'invitation_id', v.id), p_ip);
end
$$;
revoke all on function ops.decline_invitation(uuid, inet) from public, ops_app, ops_service;
grant execute on function ops.decline_invitation(uuid, inet) to ops_app;
