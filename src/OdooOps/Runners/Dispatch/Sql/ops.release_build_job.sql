-- A runner that stops (SIGTERM, a deploy, Ctrl+C) hands its running builds back instead of letting their leases run
-- out: the build is queued again at once, and the attempt does not count (it was not lost). A build whose cancel was
-- requested is cancelled instead. Like every call after the claim, it needs the lease (OOL01 otherwise → 409).
create or replace function ops.release_build_job(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_reason text)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease  ops.run_queue;
    v_cancel timestamptz;
    v_line   text;
    v_status text;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    select b.cancel_requested_at into v_cancel from ops.builds b where b.id = p_build_id for update;
    if v_cancel is not null then
        -- builds_dequeue removes the queue row
        update ops.builds b set status = 'cancelled', finished_at = pg_catalog.now(),
               result_detail = 'Cancelled; the runner stopped before it confirmed.'
         where b.id = p_build_id;
        v_status := 'cancelled';
        v_line := pg_catalog.format('Attempt %s: the runner stopped after the cancel request; the build is cancelled.', v_lease.attempts);
    else
        update ops.run_queue q set state = 'queued', lease_id = null, lease_owner = null, lease_until = null,
               available_at = pg_catalog.now(), attempts = q.attempts - 1
         where q.build_id = p_build_id;
        update ops.builds b set status = 'queued' where b.id = p_build_id;
        delete from ops.build_steps s where s.build_id = p_build_id;
        v_status := 'queued';
        v_line := pg_catalog.format('Attempt %s handed back by its runner (%s); queued again, the attempt does not count.',
                                    v_lease.attempts, pg_catalog.left(coalesce(p_reason, 'stopping'), 200));
        perform pg_catalog.pg_notify('ops_run_queue', '');
    end if;
    insert into ops.build_logs (build_id, project_id, seq, stream, line)
    values (p_build_id, v_lease.project_id,
            coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = p_build_id), 0), 'system', v_line);
    perform pg_catalog.pg_notify('ops_build_logs', p_build_id::text);
    return v_status;
end
$$;
revoke all on function ops.release_build_job(uuid, uuid, uuid, text) from public, ops_app, ops_service;
grant execute on function ops.release_build_job(uuid, uuid, uuid, text) to ops_service;
