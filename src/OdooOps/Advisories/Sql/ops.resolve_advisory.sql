-- Marks an advisory resolved (developer or higher; the advisories_update policy decides). Resolving a resolved one
-- changes nothing. P0002 when the caller cannot see it, 42501 when they may not change it.
create or replace function ops.resolve_advisory(p_advisory_id uuid)
returns ops.advisories
language plpgsql
volatile
as $$
declare
    v_row  ops.advisories;
begin
    select * into v_row from ops.advisories a where a.id = p_advisory_id;
    if not found then
        raise exception 'advisory % not found', p_advisory_id using errcode = 'P0002';
    end if;
    if v_row.status = 'resolved' then
        return v_row;
    end if;

    update ops.advisories a
       set status = 'resolved', resolved_at = pg_catalog.now()
     where a.id = p_advisory_id
       and a.status <> 'resolved'
    returning * into v_row;
    if not found then
        raise exception 'not allowed to resolve advisory % (needs developer)', p_advisory_id using errcode = '42501';
    end if;
    return v_row;
end
$$;
revoke all on function ops.resolve_advisory(uuid) from public, ops_app, ops_service;
grant execute on function ops.resolve_advisory(uuid) to ops_app;
