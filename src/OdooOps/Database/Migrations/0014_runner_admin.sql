-- 0014: the admin side of runners (src/OdooOps/Runners/RunnersApi.cs, docs/runners.md). ops.runners and
-- ops.runner_registration_tokens stay read-only for ops_app (0003): these SECURITY DEFINER functions, run as ops_app
-- under the acting user, are the only writes, and each checks the role itself. Refusals follow the RPC convention:
-- a runner or token the caller cannot see is SQLSTATE P0002 (404), one they see but may not change is 42501 (403).
-- (DbUp: bare $$ quoting only, never a lone ';' line.)

-- The console marks the runner `odooops serve` starts (its row is re-enabled at every start of serve).
grant select (embedded) on ops.runners to ops_app;

-- May the acting user administer runners of this org (null: shared runners)? Org owner/admin; system admin for shared.
create function ops_private.may_admin_runners(p_org_id uuid)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select case when p_org_id is null then ops.is_system_admin()
                else ops.role_rank(ops.org_role(p_org_id)) >= ops.role_rank('admin') end
$$;
revoke execute on function ops_private.may_admin_runners(uuid) from public;

-- Leased builds per runner the acting user can see (the runners_select rule of 0003). The whole count, whoever's
-- builds they are: for a shared runner that is how busy it is, which members need to know and which names nothing.
create function ops.runner_running_builds()
returns table (runner_id uuid, running int)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select q.lease_owner, pg_catalog.count(*)::int
      from ops.run_queue q
      join ops.runners r on r.id = q.lease_owner
     where q.state = 'leased'
       and (r.org_id in (select pg_catalog.unnest(ops.visible_org_ids()))
            or (r.org_id is null and ops.active_user_id() is not null))
     group by q.lease_owner
$$;

-- Revokes a registration token of p_org_id (null: a shared one): runners already registered keep working; the token
-- registers no more. Answers its revoked_at (the first revocation's, when it already was).
create function ops.revoke_runner_registration_token(p_org_id uuid, p_token_id uuid)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_revoked timestamptz;
begin
    if not ops_private.may_admin_runners(p_org_id) then
        if p_org_id is not null and ops.org_role(p_org_id) is not null then
            raise exception 'Revoking registration tokens needs the admin role in this org.' using errcode = '42501';
        end if;
        raise exception 'No such registration token.' using errcode = 'P0002';
    end if;
    update ops.runner_registration_tokens t set revoked_at = coalesce(t.revoked_at, pg_catalog.now())
     where t.id = p_token_id and t.org_id is not distinct from p_org_id
    returning t.revoked_at into v_revoked;
    if not found then
        raise exception 'No such registration token.' using errcode = 'P0002';
    end if;
    return v_revoked;
end
$$;

-- Disables (p_disabled) or enables a runner. A disabled runner's token is refused (ops.authenticate_runner) and it is
-- leased nothing; the leases it holds end now, so the rescuer re-queues its builds at its next round instead of
-- waiting for them to run out. Answers disabled_at (null once enabled).
create function ops.set_runner_disabled(p_runner_id uuid, p_disabled boolean)
returns timestamptz
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_runner ops.runners;
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id for update;
    if not found
       or (v_runner.org_id is null and ops.active_user_id() is null)
       or (v_runner.org_id is not null and ops.org_role(v_runner.org_id) is null) then
        raise exception 'No such runner.' using errcode = 'P0002';
    end if;
    if not ops_private.may_admin_runners(v_runner.org_id) then
        raise exception '%', case when v_runner.org_id is null then 'Shared runners are changed by system administrators only.'
                                  else 'Disabling or enabling runners needs the admin role in this org.' end
              using errcode = '42501';
    end if;
    if p_disabled then
        update ops.runners r set disabled_at = coalesce(r.disabled_at, pg_catalog.now()) where r.id = p_runner_id
        returning r.disabled_at into v_runner.disabled_at;
        update ops.run_queue q set lease_until = least(q.lease_until, pg_catalog.now())
         where q.lease_owner = p_runner_id and q.state = 'leased';
    else
        update ops.runners r set disabled_at = null where r.id = p_runner_id
        returning r.disabled_at into v_runner.disabled_at;
    end if;
    return v_runner.disabled_at;
end
$$;

revoke execute on function
    ops.runner_running_builds(),
    ops.revoke_runner_registration_token(uuid, uuid),
    ops.set_runner_disabled(uuid, boolean)
from public;

grant execute on function
    ops.runner_running_builds(),
    ops.revoke_runner_registration_token(uuid, uuid),
    ops.set_runner_disabled(uuid, boolean)
to ops_app;
