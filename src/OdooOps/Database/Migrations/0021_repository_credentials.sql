-- 0021: a project's git credential leaves its repo_url.
-- The credential (a token with an optional user name, or an SSH deploy key) is write-only: the server encrypts it
-- with its data-protection keys before it reaches the database, and keeps it in the owner-only
-- ops_private.repo_credentials, which only SECURITY DEFINER functions reach (its status and changes for project
-- admins, the secret for the runner API under a build's lease).
-- repo_urls that carried one (https://user:token@host/…, https://token@host/…, ssh://user:password@host/…) lose it
-- here, so the API, the pages and the runner see the URL without it from this migration on. The migration cannot
-- encrypt (the keys are the server's), so the user information waits, owner-only, in
-- ops_private.repo_url_credentials until `serve` encrypts it into a repository credential as it starts. Audit rows
-- and build log lines that quoted it are cleaned as well.

create table ops_private.repo_credentials (
    project_id  uuid primary key references ops.projects (id) on delete cascade,
    kind        text not null check (kind in ('token', 'ssh_key')),
    username    text check (username is null or (kind = 'token' and char_length(username) between 1 and 200)),
    secret      text not null check (char_length(secret) between 1 and 100000), -- data-protection ciphertext
    set_at      timestamptz not null default now(),
    set_by      uuid references registry.users (id) on delete set null
);
alter table ops_private.repo_credentials enable row level security;
revoke all on ops_private.repo_credentials from public;
comment on table ops_private.repo_credentials is
    'Per-project git credential, encrypted by the server (data protection, purpose OdooOps.RepoCredentials.v1). Owner-only.';

create table ops_private.repo_url_credentials (
    project_id  uuid primary key references ops.projects (id) on delete cascade,
    user_info   text not null check (char_length(user_info) between 1 and 2000), -- as it stood in the URL (percent-encoded)
    moved_at    timestamptz not null default now()
);
alter table ops_private.repo_url_credentials enable row level security;
revoke all on ops_private.repo_url_credentials from public;
comment on table ops_private.repo_url_credentials is
    'User information moved out of repo_url, until the server encrypts it into ops_private.repo_credentials. Owner-only.';

-- A credential in a URL: any user information of an http(s) URL (a token alone is common), or a user:password pair of
-- any other (an ssh user name alone, as in ssh://git@host/…, is not a secret and stays).
insert into ops_private.repo_url_credentials (project_id, user_info)
select p.id, x.m[2]
  from ops.projects p
 cross join lateral (select regexp_match(p.repo_url, '^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)@') as m) x
 where x.m is not null and x.m[2] <> '' and (lower(x.m[1]) in ('http', 'https') or strpos(x.m[2], ':') > 0);

-- Build log lines that quoted it (a git error message, say): the user information, then a password on its own — each
-- only when it has 8 characters or more, so that a plain user name ("git") does not blank out words of other lines.
update ops.build_logs l
   set line = replace(l.line, u.user_info, '***')
  from ops_private.repo_url_credentials u
  join ops.builds b on b.project_id = u.project_id
 where l.build_id = b.id and char_length(u.user_info) >= 8 and strpos(l.line, u.user_info) > 0;

update ops.build_logs l
   set line = replace(l.line, c.password, '***')
  from (select u.project_id, substr(u.user_info, strpos(u.user_info, ':') + 1) as password
          from ops_private.repo_url_credentials u where strpos(u.user_info, ':') > 0) c
  join ops.builds b on b.project_id = c.project_id
 where l.build_id = b.id and char_length(c.password) >= 8 and strpos(l.line, c.password) > 0;

-- Audit rows of projects (project.create, .update, .delete) hold the URL in before/after.
update ops.audit_log a
   set before = case when a.before ->> 'repo_url' ~* '^(https?://[^/?#]*@|[a-z][a-z0-9+.-]*://[^/?#]*:[^/?#]*@)'
                     then jsonb_set(a.before, '{repo_url}', to_jsonb(regexp_replace(a.before ->> 'repo_url', '^([A-Za-z][A-Za-z0-9+.-]*)://[^/?#]*@', '\1://')))
                     else a.before end,
       after = case when a.after ->> 'repo_url' ~* '^(https?://[^/?#]*@|[a-z][a-z0-9+.-]*://[^/?#]*:[^/?#]*@)'
                    then jsonb_set(a.after, '{repo_url}', to_jsonb(regexp_replace(a.after ->> 'repo_url', '^([A-Za-z][A-Za-z0-9+.-]*)://[^/?#]*@', '\1://')))
                    else a.after end
 where a.before ->> 'repo_url' ~* '^(https?://[^/?#]*@|[a-z][a-z0-9+.-]*://[^/?#]*:[^/?#]*@)'
    or a.after ->> 'repo_url' ~* '^(https?://[^/?#]*@|[a-z][a-z0-9+.-]*://[^/?#]*:[^/?#]*@)';

update ops.projects p
   set repo_url = regexp_replace(p.repo_url, '^([A-Za-z][A-Za-z0-9+.-]*)://[^/?#]*@', '\1://')
 where p.repo_url ~* '^(https?://[^/?#]*@|[a-z][a-z0-9+.-]*://[^/?#]*:[^/?#]*@)';
