-- 0024: sign-in on the server's side (src/OdooOps/Auth/Sessions.cs, SignInService.cs).
--
-- A session cookie now names a row of ops_private.sessions, checked on every request: signing out deletes the row, and
-- a new password or a deactivated account deletes every row of that user, so a copied cookie dies with them.
-- The sign-in lockout moves from the account to (account, client address): a stranger guessing an admin's password
-- locks out their own address only, and the admin still signs in from theirs. Both tables are owner-only (RLS on,
-- no grants, no policies); ops_service reaches them through the sign-in functions alone.
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

-- The account-wide lockout is gone; the sign-in functions take the client's address now.
drop function ops.login_lookup(text);
drop function ops.record_login(uuid, boolean, int, interval);
drop function ops.session_user_active(uuid);
alter table registry.users drop column failed_logins, drop column locked_until;
