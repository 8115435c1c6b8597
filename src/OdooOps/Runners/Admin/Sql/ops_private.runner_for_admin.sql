-- Locks a runner for an admin change and checks that the acting user may make it: a runner they cannot see is P0002,
-- one they may not administer 42501 (shared runners: system administrators; p_what names the change in the message).
-- The one check of ops.set_runner_disabled and ops.set_runner_instance_hosting.
create or replace function ops_private.runner_for_admin(p_runner_id uuid, p_what text)
returns ops.runners
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_runner ops.runners;
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id for no key update;
    if not found
       or (v_runner.org_id is null and ops.active_user_id() is null)
       or (v_runner.org_id is not null and ops.org_role(v_runner.org_id) is null) then
        raise exception 'No such runner.' using errcode = 'P0002';
    end if;
    if not ops_private.may_admin_runners(v_runner.org_id) then
        raise exception '%', case when v_runner.org_id is null then 'Shared runners are changed by system administrators only.'
                                  else p_what || ' needs the admin role in this org.' end
              using errcode = '42501';
    end if;
    return v_runner;
end
$$;
revoke all on function ops_private.runner_for_admin(uuid, text) from public, ops_app, ops_service;
