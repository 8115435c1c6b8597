-- 0001: cluster roles, schemas, shared helpers, and the registry schema
-- (orgs, users, org memberships).
--
-- Run by DbUp as the database owner inside one transaction.
-- Note for editors: DbUp splits scripts on lines that contain only ';' and
-- substitutes $<name>$ variables, so use bare $$ quoting and never a lone ';' line.

-- ---------------------------------------------------------------------------
-- Roles (cluster-global: the same cluster hosts many databases, so guard them
-- and tolerate a concurrent migration creating the same role).
-- ---------------------------------------------------------------------------

-- ops_app: group role of every login role that serves user requests.
-- It never bypasses RLS; the acting user is given by the ops.user_id setting.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'ops_app') then
        create role ops_app nologin nobypassrls;
    end if;
exception
    when duplicate_object or unique_violation then null;
end
$$;

-- ops_service: internal work (metrics ingest, runner protocol, scheduler).
-- Only EXECUTE on SECURITY DEFINER functions, no table privileges.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'ops_service') then
        create role ops_service nologin nobypassrls;
    end if;
exception
    when duplicate_object or unique_violation then null;
end
$$;

-- ---------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------
create schema registry;
create schema ops;
create schema ops_partitions;   -- metric_samples day partitions, reached only via the parent
create schema if not exists ops_private; -- owner-only bookkeeping; the migration journal may have created it already

comment on schema registry is 'Tenants and identities: orgs, users, org memberships.';
comment on schema ops is 'Control plane: projects, branches, builds, metrics, advisories, RPCs.';
comment on schema ops_partitions is 'Day partitions of ops.metric_samples. No grants: read through the parent only.';
comment on schema ops_private is 'Owner-only tables used by the application host (e.g. login role passwords).';

revoke all on schema ops_partitions from public;
revoke all on schema ops_private from public;
revoke all on schema registry from public;
revoke all on schema ops from public;

grant usage on schema registry, ops to ops_app, ops_service;

-- Functions are executable by PUBLIC by default; we want explicit grants only.
-- PostgreSQL can only take that default away globally (a per-schema ALTER DEFAULT PRIVILEGES may add, not
-- remove), so this applies to every function the owner creates in this database from now on.
alter default privileges revoke execute on functions from public;

-- ---------------------------------------------------------------------------
-- Shared helper functions
-- ---------------------------------------------------------------------------

-- Keeps updated_at honest without relying on every caller.
create function ops.touch_updated_at()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;
revoke execute on function ops.touch_updated_at() from public;

-- URL-safe slug: lower case, runs of non [a-z0-9] become '-', trimmed, max 63
-- chars. Returns '' when nothing usable is left (callers pick a fallback).
-- Not SET search_path so the planner can inline it; it only uses pg_catalog
-- functions, qualified.
create function ops.slugify(p_text text)
returns text
language sql
immutable
parallel safe
as $$
    select pg_catalog.btrim(
               pg_catalog.left(
                   pg_catalog.btrim(
                       pg_catalog.regexp_replace(pg_catalog.lower(coalesce(p_text, '')), '[^a-z0-9]+', '-', 'g'),
                       '-'),
                   63),
               '-')
$$;
revoke execute on function ops.slugify(text) from public;

-- ---------------------------------------------------------------------------
-- registry.orgs
-- ---------------------------------------------------------------------------
create table registry.orgs (
    id          uuid primary key default gen_random_uuid(),
    name        text not null check (char_length(name) between 1 and 200),
    slug        text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
alter table registry.orgs enable row level security;

-- Fills orgs.slug from the name when the insert gives none, appending -2, -3 ...
-- until unique. SECURITY DEFINER because it must see every org's slug, not
-- only the caller's (RLS would hide them and produce false "free" slugs).
create function registry.orgs_fill_slug()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_base      text;
    v_candidate text;
    v_n         int := 1;
begin
    if new.slug is not null then
        return new;
    end if;

    -- leave room for a '-NNNNNNN' suffix within the 63-char limit
    v_base := pg_catalog.btrim(pg_catalog.left(ops.slugify(new.name), 55), '-');
    if v_base = '' then
        v_base := 'org';
    end if;

    -- serialize concurrent inserts that derive the same base slug
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('registry.orgs.slug'), pg_catalog.hashtext(v_base));

    v_candidate := v_base;
    while exists (select 1 from registry.orgs o where o.slug = v_candidate) loop
        v_n := v_n + 1;
        v_candidate := v_base || '-' || v_n::text;
    end loop;

    new.slug := v_candidate;
    return new;
end
$$;
revoke execute on function registry.orgs_fill_slug() from public;

create trigger orgs_fill_slug
    before insert on registry.orgs
    for each row execute function registry.orgs_fill_slug();

create trigger orgs_touch_updated_at
    before update on registry.orgs
    for each row execute function ops.touch_updated_at();

-- ---------------------------------------------------------------------------
-- registry.users
-- ---------------------------------------------------------------------------
create table registry.users (
    id               uuid primary key default gen_random_uuid(),
    email            text not null check (char_length(email) between 3 and 320 and position('@' in email) > 1),
    display_name     text check (display_name is null or char_length(display_name) <= 200),
    password_hash    text,
    is_active        boolean not null default true,
    is_system_admin  boolean not null default false,
    failed_logins    int not null default 0 check (failed_logins >= 0),
    locked_until     timestamptz,
    last_login_at    timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
alter table registry.users enable row level security;

-- emails are compared case-insensitively
create unique index users_email_lower_key on registry.users (lower(email));

create trigger users_touch_updated_at
    before update on registry.users
    for each row execute function ops.touch_updated_at();

-- ---------------------------------------------------------------------------
-- registry.org_members
-- ---------------------------------------------------------------------------
create table registry.org_members (
    org_id      uuid not null references registry.orgs (id) on delete cascade,
    user_id     uuid not null references registry.users (id) on delete cascade,
    role        text not null check (role in ('owner', 'admin', 'developer', 'tester', 'viewer')),
    created_at  timestamptz not null default now(),
    primary key (org_id, user_id)
);
alter table registry.org_members enable row level security;

-- membership look-ups by user (every access check starts from the user)
create index org_members_user_idx on registry.org_members (user_id, org_id);

-- ---------------------------------------------------------------------------
-- ops_private.login_roles: bookkeeping of the login roles the C# host creates
-- (members of ops_app). Owner-only: RLS on, no policy, no grants.
-- ---------------------------------------------------------------------------
create table ops_private.login_roles (
    role_name   text primary key,
    password    text not null,
    created_at  timestamptz not null default now()
);
alter table ops_private.login_roles enable row level security;
revoke all on ops_private.login_roles from public;

-- /readyz (run as ops_service) compares the migration journal with the binary's scripts.
-- The journal table is created by the migrator before the first script runs.
grant usage on schema ops_private to ops_service;
grant select on ops_private.schema_migrations to ops_service;
create policy schema_migrations_read on ops_private.schema_migrations for select to ops_service using (true);
