-- ops.member_invitations: The admins of the organisation (or of the project) see, send, renew and withdraw its
-- invitations; only owners invite owners. Invitees reach theirs through ops.my_invitations, ops.accept_invitation and
-- ops.decline_invitation, which match the invitation's email with their own.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.member_invitations');
grant select, insert, delete on ops.member_invitations to ops_app;
grant update (role, invited_by, created_at, expires_at) on ops.member_invitations to ops_app;

create policy member_invitations_admin on ops.member_invitations
    for all to ops_app
    using (case when project_id is null
                then org_id in (select unnest(ops.org_ids_with_role('admin')))
                     and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner'))))
                else project_id in (select unnest(ops.project_ids_with_role('admin'))) end)
    with check (case when project_id is null
                     then org_id in (select unnest(ops.org_ids_with_role('admin')))
                          and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner'))))
                     else project_id in (select unnest(ops.project_ids_with_role('admin')))
                          and org_id = (select p.org_id from ops.projects p where p.id = project_id) end);
