-- The invitee accepts: they become a member with the invited role (a membership they already have stays as it is),
-- the invitation is used up, and the audit log says so (member.join). Another user's, an expired or an unknown
-- invitation is SQLSTATE P0002 (404) alike.
create or replace function ops.accept_invitation(p_invitation_id uuid, p_ip inet)
returns table (org_id uuid, project_id uuid, role text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v      ops.member_invitations;
    v_user uuid := ops.current_user_id();
begin
    select * into v from ops.member_invitations i
     where i.id = p_invitation_id and i.email = ops_private.invitee_email() and i.expires_at > pg_catalog.now()
       for update;
    if not found then
        raise exception 'No such invitation.' using errcode = 'P0002';
    end if;
    if v.project_id is null then
        insert into registry.org_members (org_id, user_id, role) values (v.org_id, v_user, v.role) on conflict do nothing;
    else
        insert into ops.project_members (project_id, user_id, role) values (v.project_id, v_user, v.role) on conflict do nothing;
    end if;
    delete from ops.member_invitations i where i.id = v.id;
    perform ops.write_audit('user', 'member.join', 'user', v_user::text, v.org_id, v.project_id, null,
        pg_catalog.jsonb_build_object('email', v.email, 'role', v.role, 'invitation_id', v.id), p_ip);
    return query select v.org_id, v.project_id, v.role;
end
$$;
revoke all on function ops.accept_invitation(uuid, inet) from public, ops_app, ops_service;
grant execute on function ops.accept_invitation(uuid, inet) to ops_app;
