-- 0025: adding someone to an organisation, or to a project outside their organisation, is an invitation they accept
-- (src/OdooOps/Members/). Invitations are by email, whether or not an account has it, so the answer to "add this
-- email" is the same for an existing account and an unknown address: nobody learns which emails exist. The invitee
-- sees and accepts their invitations after signing in; an admin sees and withdraws the ones they sent.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

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

-- Looking a user up by email answered whether the email exists; adding members invites instead.
drop function ops.user_id_by_email(text);
