-- 0024: the web surface's tables (src/OdooOps/Auth/Sessions.cs, SignInService.cs; src/OdooOps/Members/Invitations.cs).
--
-- Sessions: a session cookie now names a row of ops_private.sessions, checked on every request: signing out deletes the
-- row, and a new password or a deactivated account deletes every row of that user, so a copied cookie dies with them.
-- Sign-in failures: the lockout moves from the account to (account, client address), so a stranger guessing an admin's
-- password locks out their own address only. Both are owner-only (RLS on, no grants, no policies); ops_service reaches
-- them through the sign-in functions alone.
-- Invitations: adding someone to an organisation, or to a project outside their organisation, is an invitation by
-- email they accept, whether or not an account has that email, so "add this email" tells nobody which emails exist.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

create table ops_private.sessions (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references registry.users (id) on delete cascade,
    created_at    timestamptz not null default now(),
    last_seen_at  timestamptz not null default now(),
    ip            inet
);
create index sessions_user_id on ops_private.sessions (user_id);
create index sessions_last_seen_at on ops_private.sessions (last_seen_at);
alter table ops_private.sessions enable row level security;
revoke all on ops_private.sessions from public;
comment on table ops_private.sessions is
    'Signed-in console sessions (the cookie names one). Owner-only; reached through ops.open_session, ops.check_session, ops.end_session.';

create table ops_private.sign_in_failures (
    user_id       uuid not null references registry.users (id) on delete cascade,
    address       text not null check (char_length(address) between 1 and 64),
    failures      int not null default 0 check (failures >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz not null default now(),
    primary key (user_id, address)
);
create index sign_in_failures_updated_at on ops_private.sign_in_failures (updated_at);
alter table ops_private.sign_in_failures enable row level security;
revoke all on ops_private.sign_in_failures from public;
comment on table ops_private.sign_in_failures is
    'Consecutive failed sign-ins per (account, client address) and the lockout they caused. Owner-only; reached through ops.login_lookup and ops.record_login.';

create table ops.member_invitations (
    id          uuid primary key default gen_random_uuid(),
    org_id      uuid not null references registry.orgs (id) on delete cascade,
    project_id  uuid references ops.projects (id) on delete cascade,
    email       text not null check (char_length(email) between 3 and 320 and position('@' in email) > 1 and email = lower(btrim(email))),
    role        text not null check (role in ('owner', 'admin', 'developer', 'tester', 'viewer') and (project_id is null or role <> 'owner')),
    invited_by  uuid references registry.users (id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);
-- One open invitation per place and email: inviting again renews it.
create unique index member_invitations_place_email on ops.member_invitations (org_id, project_id, email) nulls not distinct;
create index member_invitations_email on ops.member_invitations (email);
alter table ops.member_invitations enable row level security;
