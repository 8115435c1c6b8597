-- The rescuer (scheduler job `runner_rescue`, every 30 s): a lease that ran out means its runner is gone. The build
-- is re-queued (attempt + 1; steps of the lost attempt cleared, its log kept) until max_attempts, then failed with
-- "runner lost"; a build whose cancel was requested becomes cancelled. Each outcome is written into the build log.
create or replace function ops.rescue_build_leases()
returns table (requeued int, failed int, cancelled int)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row        record;
    v_requeued   int := 0;
    v_failed     int := 0;
    v_cancelled  int := 0;
    v_line       text;
begin
    for v_row in
        select q.build_id, q.project_id, q.attempts, q.max_attempts, q.lease_until, b.cancel_requested_at
          from ops.run_queue q join ops.builds b on b.id = q.build_id
         where q.state = 'leased' and q.lease_until < pg_catalog.now()
           for update of q, b skip locked
    loop
        if v_row.cancel_requested_at is not null then
            update ops.builds b set status = 'cancelled', finished_at = pg_catalog.now(),
                   result_detail = 'Cancelled; the runner did not confirm before its lease ran out.'
             where b.id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s: the runner stopped answering after the cancel request; the build is cancelled.', v_row.attempts);
            v_cancelled := v_cancelled + 1;
        elsif v_row.attempts < v_row.max_attempts then
            update ops.run_queue q set state = 'queued', lease_id = null, lease_owner = null, lease_until = null,
                   available_at = pg_catalog.now()
             where q.build_id = v_row.build_id;
            update ops.builds b set status = 'queued' where b.id = v_row.build_id;
            delete from ops.build_steps s where s.build_id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s lost its runner (no heartbeat, lease ran out at %s); re-queued as attempt %s of %s.',
                                        v_row.attempts, v_row.lease_until, v_row.attempts + 1, v_row.max_attempts);
            v_requeued := v_requeued + 1;
        else
            update ops.builds b set status = 'failed', finished_at = pg_catalog.now(), result_detail = 'runner lost'
             where b.id = v_row.build_id;
            v_line := pg_catalog.format('Attempt %s lost its runner (lease ran out at %s) and no attempts are left: failed (runner lost).',
                                        v_row.attempts, v_row.lease_until);
            v_failed := v_failed + 1;
        end if;
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (v_row.build_id, v_row.project_id,
                coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = v_row.build_id), 0), 'system', v_line);
        perform pg_catalog.pg_notify('ops_build_logs', v_row.build_id::text);
    end loop;
    if v_requeued > 0 then
        perform pg_catalog.pg_notify('ops_run_queue', '');
    end if;
    return query select v_requeued, v_failed, v_cancelled;
end
$$;
revoke all on function ops.rescue_build_leases() from public, ops_app, ops_service;
grant execute on function ops.rescue_build_leases() to ops_service;
