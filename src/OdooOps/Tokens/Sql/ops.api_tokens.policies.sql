-- ops.api_tokens: Each user sees, creates and revokes only their own tokens. The hash is insertable but never readable.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.api_tokens');
grant select (id, user_id, name, token_prefix, scope, created_at, expires_at, last_used_at, revoked_at) on ops.api_tokens to ops_app;
grant insert (id, user_id, name, token_prefix, token_hash, scope, expires_at) on ops.api_tokens to ops_app;
grant update (name, revoked_at) on ops.api_tokens to ops_app;

create policy api_tokens_own on ops.api_tokens
    for all to ops_app
    using (user_id = (select ops.active_user_id()))
    with check (user_id = (select ops.active_user_id()));
