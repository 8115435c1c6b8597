-- Did this session log in as a member of this database's app group, i.e. is it a user request? Functions that run
-- as their owner (SECURITY DEFINER) ask it to tell a user's call, which must pass the user's checks, from the
-- database's own callers: a verified git push through the service login, or the owner. Direct membership only, so
-- the owner is not a request session even as a superuser. Fails closed: with no recorded group, every session is one.
create or replace function ops_private.is_request_session()
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select case when not exists (select 1 from ops_private.request_roles r where r.kind = 'app') then true
                else exists (select 1
                               from ops_private.request_roles r
                               join pg_catalog.pg_roles g on g.rolname = r.role_name
                               join pg_catalog.pg_auth_members m on m.roleid = g.oid
                               join pg_catalog.pg_roles s on s.oid = m.member
                              where r.kind = 'app' and s.rolname = session_user)
           end
$$;
revoke all on function ops_private.is_request_session() from public, ops_app, ops_service;
