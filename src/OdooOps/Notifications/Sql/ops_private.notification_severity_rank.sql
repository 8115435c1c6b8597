-- Advisory severities in order, for a channel's least severity (info 1, warning 2, critical 3; anything else 0).
create or replace function ops_private.notification_severity_rank(p_severity text)
returns int
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select case p_severity when 'info' then 1 when 'warning' then 2 when 'critical' then 3 else 0 end
$$;
revoke all on function ops_private.notification_severity_rank(text) from public, ops_app, ops_service;
