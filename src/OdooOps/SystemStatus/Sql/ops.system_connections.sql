-- This database's connections by application name, for system administrators (see ops.system_status): every replica's
-- request pools (odooops-app, odooops-service), listeners and anything else connected. Whether a connection is busy is
-- known only where the owner may see the session's state (null otherwise).
create or replace function ops.system_connections()
returns table (application text, connections int, active int)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if not ops.is_system_admin() then
        raise exception 'The server''s state is visible to system administrators only.' using errcode = '42501';
    end if;
    return query
    select coalesce(nullif(a.application_name, ''), '(none)')::text, pg_catalog.count(*)::int,
           case when pg_catalog.bool_and(a.state is not null) then pg_catalog.count(*) filter (where a.state = 'active')::int end
      from pg_catalog.pg_stat_activity a
     where a.datname = pg_catalog.current_database() and coalesce(a.backend_type, 'client backend') = 'client backend'
     group by 1
     order by 2 desc, 1;
end
$$;
revoke all on function ops.system_connections() from public, ops_app, ops_service;
grant execute on function ops.system_connections() to ops_app;
