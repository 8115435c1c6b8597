-- registry.users: Own row and visible colleagues; a user updates their own display_name. Password, lockout and sign-in
-- columns are not granted to the app at all.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('registry.users');
grant select (id, email, display_name, is_active, is_system_admin, last_login_at, created_at, updated_at) on registry.users to ops_app;
grant update (display_name) on registry.users to ops_app;

create policy users_select on registry.users
    for select to ops_app
    using (id in (select unnest(ops.visible_user_ids())));

create policy users_update_self on registry.users
    for update to ops_app
    using (id = (select ops.active_user_id()))
    with check (id = (select ops.active_user_id()));
