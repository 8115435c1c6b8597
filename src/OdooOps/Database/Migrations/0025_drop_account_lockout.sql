-- 0025: what the web surface's tables replace (see 0024): the account-wide sign-in lockout, and the look-up that
-- answered whether an email had an account. Their functions change signature or go; their files define what stays.
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

drop function ops.login_lookup(text);
drop function ops.record_login(uuid, boolean, int, interval);
drop function ops.session_user_active(uuid);
alter table registry.users drop column failed_logins, drop column locked_until;
drop function ops.user_id_by_email(text);
