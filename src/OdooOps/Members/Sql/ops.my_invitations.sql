-- The acting user's open invitations, with what they need to decide: the organisation (and project) by name and who
-- invited them. They are not members yet, so RLS would show them none of it.
create or replace function ops.my_invitations()
returns table (id uuid, org_id uuid, org_name text, org_slug text, project_id uuid, project_name text, role text,
               invited_by text, created_at timestamptz, expires_at timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select i.id, i.org_id, o.name, o.slug, i.project_id, p.name, i.role,
           coalesce(nullif(u.display_name, ''), u.email), i.created_at, i.expires_at
      from ops.member_invitations i
      join registry.orgs o on o.id = i.org_id
      left join ops.projects p on p.id = i.project_id
      left join registry.users u on u.id = i.invited_by
     where i.email = ops_private.invitee_email()
       and i.expires_at > pg_catalog.now()
     order by i.created_at, i.id
$$;
revoke all on function ops.my_invitations() from public, ops_app, ops_service;
grant execute on function ops.my_invitations() to ops_app;
