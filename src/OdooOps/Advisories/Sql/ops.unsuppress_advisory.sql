-- Ends a suppression now: the advisory is open again (developer or higher; the advisories_update policy decides).
-- An advisory that is not suppressed is returned unchanged. P0002 when the caller cannot see it, 42501 when they may
-- not change it.
create or replace function ops.unsuppress_advisory(p_advisory_id uuid)
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
    if v_row.status <> 'suppressed' then
        return v_row;
    end if;

    update ops.advisories a
       set status = 'open', suppressed_until = null, suppress_reason = null
     where a.id = p_advisory_id
       and a.status = 'suppressed'
    returning * into v_row;
    if not found then
        raise exception 'not allowed to un-suppress advisory % (needs developer)', p_advisory_id using errcode = '42501';
    end if;
    return v_row;
end
$$;
revoke all on function ops.unsuppress_advisory(uuid) from public, ops_app, ops_service;
grant execute on function ops.unsuppress_advisory(uuid) to ops_app;
