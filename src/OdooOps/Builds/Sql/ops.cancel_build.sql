-- Cancels a build: queued -> cancelled at once (the builds_dequeue trigger removes the queue row); running ->
-- cancel_requested_at is set and the runner stops it; finished -> returned unchanged. Needs ops.can_build
-- (42501 with ops.build_refusal's words).
-- SECURITY DEFINER: the request role may not update builds itself (it could rewrite a status, a finish time or
-- requeue a build), so a user's call is checked here (ops_private.is_request_session): a build of a project they
-- cannot see is not found.
create or replace function ops.cancel_build(p_build_id uuid)
returns ops.builds
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row   ops.builds;
    v_user  boolean := ops_private.is_request_session();
begin
    -- Two rounds cover a runner claiming the build between our read and update.
    for i in 1 .. 3 loop
        select * into v_row from ops.builds b
         where b.id = p_build_id and (not v_user or b.project_id = any (ops.visible_project_ids()));
        if not found then
            raise exception 'build % not found', p_build_id using errcode = 'P0002';
        end if;

        if v_row.status not in ('queued', 'running') then
            return v_row;
        end if;

        if v_user and not ops.can_build(v_row.project_id, v_row.branch_id) then
            raise exception '%', coalesce(ops.build_refusal(v_row.project_id, v_row.branch_id, 'cancel'), 'not allowed to cancel build ' || p_build_id)
                using errcode = '42501';
        end if;

        if v_row.status = 'queued' then
            update ops.builds b
               set status = 'cancelled',
                   cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now()),
                   finished_at = pg_catalog.now()
             where b.id = p_build_id
               and b.status = 'queued'
            returning * into v_row;
        else
            update ops.builds b
               set cancel_requested_at = coalesce(b.cancel_requested_at, pg_catalog.now())
             where b.id = p_build_id
               and b.status = 'running'
            returning * into v_row;
        end if;

        if found then
            return v_row;
        end if;
        -- status moved under us; look again
    end loop;

    raise exception 'could not cancel build % (status keeps changing or not allowed)', p_build_id
        using errcode = '42501';
end
$$;
revoke all on function ops.cancel_build(uuid) from public, ops_app, ops_service;
grant execute on function ops.cancel_build(uuid) to ops_app;
