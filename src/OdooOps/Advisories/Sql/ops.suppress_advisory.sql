-- Suppress until p_until (null = until manually reopened/resolved).
create or replace function ops.suppress_advisory(p_advisory_id uuid, p_until timestamptz default null, p_reason text default null)
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
        raise exception 'advisory % is resolved', p_advisory_id using errcode = '55000';
    end if;

    update ops.advisories a
       set status = 'suppressed', suppressed_until = p_until, suppress_reason = p_reason
     where a.id = p_advisory_id
       and a.status <> 'resolved'
    returning * into v_row;
    if not found then
        raise exception 'not allowed to suppress advisory % (needs developer)', p_advisory_id using errcode = '42501';
    end if;
    return v_row;
end
$$;
revoke all on function ops.suppress_advisory(uuid, timestamptz, text) from public, ops_app, ops_service;
grant execute on function ops.suppress_advisory(uuid, timestamptz, text) to ops_app;
