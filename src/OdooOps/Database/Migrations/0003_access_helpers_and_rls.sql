-- 0003: access helpers, row level security policies, and table grants.
--
-- Model: every request runs as a login role that is a member of ops_app, with
-- the acting user in the setting ops.user_id. Role rank:
--   viewer 1 < tester 2 < developer 3 < admin 4 < owner 5.
-- A user's role on a project is the higher of their org role and their
-- project role. No membership row = no access. No ops.user_id = nothing.
--
-- The owner (migrations, admin psql) is not subject to RLS: we never FORCE it.
-- Helpers that read membership tables are SECURITY DEFINER so that policies
-- do not recurse through the RLS of those tables. Policies use them as
-- "project_id in (select unnest(ops.f()))": an uncorrelated sub-select that
-- PostgreSQL runs once per statement and probes as a hash table, so a user with
-- thousands of projects costs O(1) per row (an "= any(array)" test would scan
-- the whole array for every row: measured 60 ms for 1,000 projects).
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- The acting user, or null when anonymous. Invoker: reads only a setting.
create function ops.current_user_id()
returns uuid
language sql
stable
as $$
    select nullif(pg_catalog.current_setting('ops.user_id', true), '')::uuid
$$;
revoke execute on function ops.current_user_id() from public;

-- Unknown / null roles rank 0, i.e. below every real role.
create function ops.role_rank(p_role text)
returns int
language sql
immutable
parallel safe
as $$
    select case p_role
               when 'viewer' then 1
               when 'tester' then 2
               when 'developer' then 3
               when 'admin' then 4
               when 'owner' then 5
               else 0
           end
$$;
revoke execute on function ops.role_rank(text) from public;

-- The acting user's role in an org (null = none). Inactive users have none.
create function ops.org_role(p_org_id uuid)
returns text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select om.role
      from registry.org_members om
      join registry.users u on u.id = om.user_id and u.is_active
     where om.org_id = p_org_id
       and om.user_id = ops.current_user_id()
$$;
revoke execute on function ops.org_role(uuid) from public;

-- The acting user's effective role on a project: max(org role, project role).
create function ops.project_role(p_project_id uuid)
returns text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select r.role
      from (
            select om.role
              from ops.projects p
              join registry.org_members om on om.org_id = p.org_id
             where p.id = p_project_id
               and om.user_id = ops.current_user_id()
            union all
            select pm.role
              from ops.project_members pm
             where pm.project_id = p_project_id
               and pm.user_id = ops.current_user_id()
           ) r
     where exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
     order by ops.role_rank(r.role) desc
     limit 1
$$;
revoke execute on function ops.project_role(uuid) from public;

-- The acting user if they exist and are active, else null. Policies on a user's own rows (profile, tokens,
-- audit entries, shared runners) use it so an inactive user has no access, like an anonymous one.
create function ops.active_user_id()
returns uuid
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id
      from registry.users u
     where u.id = ops.current_user_id()
       and u.is_active
$$;
revoke execute on function ops.active_user_id() from public;

-- Orgs in which the acting user holds at least p_min_role.
create function ops.org_ids_with_role(p_min_role text)
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(om.org_id), '{}')
      from registry.org_members om
      join registry.users u on u.id = om.user_id and u.is_active
     where om.user_id = ops.current_user_id()
       and ops.role_rank(om.role) >= ops.role_rank(p_min_role)
$$;
revoke execute on function ops.org_ids_with_role(text) from public;

-- Projects on which the acting user's effective role is at least p_min_role.
-- (Effective role = max of two sources, so "any source >= min" is the same.)
create function ops.project_ids_with_role(p_min_role text)
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(distinct x.project_id), '{}')
      from (
            select p.id as project_id, om.role
              from registry.org_members om
              join ops.projects p on p.org_id = om.org_id
             where om.user_id = ops.current_user_id()
            union all
            select pm.project_id, pm.role
              from ops.project_members pm
             where pm.user_id = ops.current_user_id()
           ) x
     where ops.role_rank(x.role) >= ops.role_rank(p_min_role)
       and exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
$$;
revoke execute on function ops.project_ids_with_role(text) from public;

create function ops.visible_org_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select ops.org_ids_with_role('viewer')
$$;
revoke execute on function ops.visible_org_ids() from public;

create function ops.visible_project_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select ops.project_ids_with_role('viewer')
$$;
revoke execute on function ops.visible_project_ids() from public;

-- Users the acting user may see: themself, people sharing an org, and members
-- of projects they can see (so a project member list can show names).
create function ops.visible_user_ids()
returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(pg_catalog.array_agg(distinct x.user_id), '{}')
      from (
            select u.id as user_id
              from registry.users u
             where u.id = ops.current_user_id()
            union all
            select om.user_id
              from registry.org_members om
             where om.org_id = any (ops.visible_org_ids())
            union all
            select pm.user_id
              from ops.project_members pm
             where pm.project_id = any (ops.visible_project_ids())
           ) x
     where exists (select 1 from registry.users u where u.id = ops.current_user_id() and u.is_active)
$$;
revoke execute on function ops.visible_user_ids() from public;

create function ops.is_system_admin()
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(
               (select u.is_system_admin and u.is_active
                  from registry.users u
                 where u.id = ops.current_user_id()),
               false)
$$;
revoke execute on function ops.is_system_admin() from public;

-- May the acting user start (or cancel) a build of this branch?
-- developer+ on any stage; tester only on development/staging branches.
create function ops.can_build(p_project_id uuid, p_branch_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select case
               when ops.role_rank(ops.project_role(p_project_id)) >= 3 then true
               when ops.role_rank(ops.project_role(p_project_id)) = 2 then
                    exists (select 1
                              from ops.branches b
                             where b.id = p_branch_id
                               and b.project_id = p_project_id
                               and b.stage <> 'production')
               else false
           end
$$;
revoke execute on function ops.can_build(uuid, uuid) from public;

grant execute on function
    ops.current_user_id(),
    ops.active_user_id(),
    ops.role_rank(text),
    ops.org_role(uuid),
    ops.project_role(uuid),
    ops.org_ids_with_role(text),
    ops.project_ids_with_role(text),
    ops.visible_org_ids(),
    ops.visible_project_ids(),
    ops.visible_user_ids(),
    ops.is_system_admin(),
    ops.can_build(uuid, uuid),
    ops.slugify(text)
to ops_app;

-- ---------------------------------------------------------------------------
-- registry.orgs: members read; owner/admin update. Creation goes through
-- ops.create_org (0004), which also makes the creator the owner.
-- ---------------------------------------------------------------------------
grant select, update (name, slug) on registry.orgs to ops_app;

create policy orgs_select on registry.orgs
    for select to ops_app
    using (id in (select unnest(ops.visible_org_ids())));

create policy orgs_update on registry.orgs
    for update to ops_app
    using (id in (select unnest(ops.org_ids_with_role('admin'))))
    with check (id in (select unnest(ops.org_ids_with_role('admin'))));

-- ---------------------------------------------------------------------------
-- registry.users: own row and visible colleagues; update own display_name.
-- Secrets/lockout columns are not granted to the app at all.
-- ---------------------------------------------------------------------------
grant select (id, email, display_name, is_active, is_system_admin, last_login_at, created_at, updated_at)
    on registry.users to ops_app;
grant update (display_name) on registry.users to ops_app;

create policy users_select on registry.users
    for select to ops_app
    using (id in (select unnest(ops.visible_user_ids())));

create policy users_update_self on registry.users
    for update to ops_app
    using (id = (select ops.active_user_id()))
    with check (id = (select ops.active_user_id()));

-- ---------------------------------------------------------------------------
-- registry.org_members: members read; owner/admin write; only an owner may
-- grant, change or remove the 'owner' role.
-- ---------------------------------------------------------------------------
grant select, insert, update (role), delete on registry.org_members to ops_app;

create policy org_members_select on registry.org_members
    for select to ops_app
    using (org_id in (select unnest(ops.visible_org_ids())));

create policy org_members_insert on registry.org_members
    for insert to ops_app
    with check (org_id in (select unnest(ops.org_ids_with_role('admin')))
                and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));

create policy org_members_update on registry.org_members
    for update to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))))
    with check (org_id in (select unnest(ops.org_ids_with_role('admin')))
                and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));

create policy org_members_delete on registry.org_members
    for delete to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           and (role <> 'owner' or org_id in (select unnest(ops.org_ids_with_role('owner')))));

-- ---------------------------------------------------------------------------
-- ops.projects: readers read; org owner/admin create, update and delete;
-- project admins update. Moving a project between orgs is not
-- granted (org_id is not in the update column list).
-- ---------------------------------------------------------------------------
grant select, insert, delete on ops.projects to ops_app;
grant update (name, slug, repo_url, runtime_version, webhook_secret, archived_at) on ops.projects to ops_app;

create policy projects_select on ops.projects
    for select to ops_app
    using (id in (select unnest(ops.visible_project_ids())));

-- Org owner/admin: create, update, delete. (FOR ALL also covers SELECT, but
-- only rows projects_select shows anyway.)
create policy projects_org_admin on ops.projects
    for all to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))))
    with check (org_id in (select unnest(ops.org_ids_with_role('admin'))));

-- Project admins (incl. project_members admins) may also update.
create policy projects_update on ops.projects
    for update to ops_app
    using (id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (id in (select unnest(ops.project_ids_with_role('admin'))));

-- ---------------------------------------------------------------------------
-- ops.branches: developer+ create/update non-production branches; anything
-- touching production (old or new row) needs admin+; delete needs admin+.
-- ---------------------------------------------------------------------------
grant select, insert, delete on ops.branches to ops_app;
grant update (name, stage, is_production, archived_at) on ops.branches to ops_app;

create policy branches_select on ops.branches
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

-- Insert/update/delete. For UPDATE, USING sees the old row and WITH CHECK the
-- new one, so production on either side needs admin.
create policy branches_write on ops.branches
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin')))
                or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))));

-- Restrictive (ANDed with the above): deleting any branch needs admin+.
create policy branches_delete_admin on ops.branches
    as restrictive
    for delete to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))));

-- ---------------------------------------------------------------------------
-- ops.builds: readers read. Insert only as 'queued', by developer+ (tester on
-- non-production branches), for oneself. Update (cancel) under the same rule,
-- only while queued/running, and only to a queued/running/cancelled state;
-- everything else about a build is written by internal functions.
-- ---------------------------------------------------------------------------
grant select on ops.builds to ops_app;
grant insert (id, project_id, branch_id, trigger, commit_sha, commit_message, triggered_by) on ops.builds to ops_app;
grant update (status, cancel_requested_at, finished_at) on ops.builds to ops_app;

create policy builds_select on ops.builds
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy builds_insert on ops.builds
    for insert to ops_app
    with check (status = 'queued'
                and (triggered_by is null or triggered_by = (select ops.current_user_id()))
                and ops.can_build(project_id, branch_id));

create policy builds_update on ops.builds
    for update to ops_app
    using (status in ('queued', 'running') and ops.can_build(project_id, branch_id))
    with check (status in ('queued', 'running', 'cancelled') and ops.can_build(project_id, branch_id));

-- ---------------------------------------------------------------------------
-- Read-only for the app (written by SECURITY DEFINER internals):
-- run_queue, build_steps, build_logs, metric samples/rollups, deployments.
-- ---------------------------------------------------------------------------
grant select on ops.run_queue, ops.build_steps, ops.build_logs,
                ops.metric_samples, ops.metric_rollups_minute, ops.metric_rollups_hour,
                ops.deployments
    to ops_app;

create policy run_queue_select on ops.run_queue
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy build_steps_select on ops.build_steps
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy build_logs_select on ops.build_logs
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

-- Applies to every partition when read through the parent; partitions
-- themselves have RLS on, no policy and no grants.
create policy metric_samples_select on ops.metric_samples
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy metric_rollups_minute_select on ops.metric_rollups_minute
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy metric_rollups_hour_select on ops.metric_rollups_hour
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy deployments_select on ops.deployments
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

-- ---------------------------------------------------------------------------
-- Runners and registration tokens: not writable by the app; token hashes are
-- never granted. Org runners: members of that org. Shared runners: anyone
-- signed in. Registration tokens: org owner/admin (shared: system admins).
-- ---------------------------------------------------------------------------
grant select (id, org_id, name, labels, capacity, version, last_seen_at, created_at, disabled_at)
    on ops.runners to ops_app;

create policy runners_select on ops.runners
    for select to ops_app
    using (org_id in (select unnest(ops.visible_org_ids()))
           or (org_id is null and (select ops.active_user_id()) is not null));

grant select (id, org_id, created_by, created_at, expires_at, used_at, revoked_at)
    on ops.runner_registration_tokens to ops_app;

create policy runner_registration_tokens_select on ops.runner_registration_tokens
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin')))
           or (org_id is null and (select ops.is_system_admin())));

-- ---------------------------------------------------------------------------
-- job_runs: system admins only, read-only.
-- ---------------------------------------------------------------------------
grant select on ops.job_runs to ops_app;

create policy job_runs_select on ops.job_runs
    for select to ops_app
    using ((select ops.is_system_admin()));

-- ---------------------------------------------------------------------------
-- advisories: readers read; developer+ resolve/suppress/reopen.
-- ---------------------------------------------------------------------------
grant select on ops.advisories to ops_app;
grant update (status, suppressed_until, suppress_reason, resolved_at) on ops.advisories to ops_app;

create policy advisories_select on ops.advisories
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy advisories_update on ops.advisories
    for update to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('developer'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('developer'))));

-- ---------------------------------------------------------------------------
-- project_members: readers read; admin+ write.
-- ---------------------------------------------------------------------------
grant select, insert, update (role), delete on ops.project_members to ops_app;

create policy project_members_select on ops.project_members
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));

create policy project_members_write on ops.project_members
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin'))));

-- ---------------------------------------------------------------------------
-- api_tokens: each user sees, creates and revokes only their own tokens.
-- The hash is insertable but never readable by the app.
-- ---------------------------------------------------------------------------
grant select (id, user_id, name, token_prefix, scope, created_at, expires_at, last_used_at, revoked_at)
    on ops.api_tokens to ops_app;
grant insert (id, user_id, name, token_prefix, token_hash, scope, expires_at) on ops.api_tokens to ops_app;
grant update (name, revoked_at) on ops.api_tokens to ops_app;

create policy api_tokens_own on ops.api_tokens
    for all to ops_app
    using (user_id = (select ops.active_user_id()))
    with check (user_id = (select ops.active_user_id()));

-- ---------------------------------------------------------------------------
-- ingest_tokens: project admin+ list, create, revoke. Hash never readable.
-- ---------------------------------------------------------------------------
grant select (id, project_id, name, token_prefix, created_by, created_at, last_used_at, revoked_at)
    on ops.ingest_tokens to ops_app;
grant insert (id, project_id, name, token_prefix, token_hash, created_by) on ops.ingest_tokens to ops_app;
grant update (name, revoked_at) on ops.ingest_tokens to ops_app;

create policy ingest_tokens_admin on ops.ingest_tokens
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin'))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin'))));

-- ---------------------------------------------------------------------------
-- audit_log: org owner/admin read; any signed-in user appends entries about
-- themself, and only into the logs of orgs/projects they can see (an entry
-- naming another tenant's org or project would land in that tenant's log).
-- No update/delete grants: append-only. (Insert without RETURNING:
-- a non-admin cannot read back the row it wrote.)
-- ---------------------------------------------------------------------------
grant select on ops.audit_log to ops_app;
grant insert (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip)
    on ops.audit_log to ops_app;

create policy audit_log_select on ops.audit_log
    for select to ops_app
    using (org_id in (select unnest(ops.org_ids_with_role('admin'))));

create policy audit_log_insert on ops.audit_log
    for insert to ops_app
    with check (actor_user_id is not null
                and actor_user_id = (select ops.active_user_id())
                and (project_id is null or project_id in (select unnest(ops.visible_project_ids())))
                and (org_id is null
                     or org_id in (select unnest(ops.visible_org_ids()))
                     -- a project-only member may name the org of their project (RLS on projects applies)
                     or exists (select 1 from ops.projects p
                                 where p.id = audit_log.project_id and p.org_id = audit_log.org_id)));

-- ---------------------------------------------------------------------------
-- env_vars: developer+ read (tester/viewer see nothing); admin+ write any
-- stage, developer write non-production stages.
-- ---------------------------------------------------------------------------
grant select, insert, delete on ops.env_vars to ops_app;
grant update (stage, name, value, is_secret) on ops.env_vars to ops_app;

create policy env_vars_select on ops.env_vars
    for select to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('developer'))));

-- FOR ALL also grants SELECT, but only on rows the select policy shows anyway.
create policy env_vars_write on ops.env_vars
    for all to ops_app
    using (project_id in (select unnest(ops.project_ids_with_role('admin')))
           or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))))
    with check (project_id in (select unnest(ops.project_ids_with_role('admin')))
                or (stage <> 'production' and project_id in (select unnest(ops.project_ids_with_role('developer')))));
