-- A runner's result: the lease check and the queue row's removal are one DELETE, then the build gets its final status
-- (success, warning, failed, cancelled, timed_out) and detail. Commits without a NOTIFY: a NOTIFY serializes the commits
-- of all notifying transactions behind one lock, and a durable finish does not need one; the runner API sends the log
-- streams' wake-up right after, in a transaction of its own that does not wait for the disk (measured by
-- `bench -- claim`). OOL01 when the runner no longer holds the lease, 22023 for a bad result.
create or replace function ops.finish_build_job(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_result text, p_detail text)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    if p_result is null or p_result not in ('success', 'warning', 'failed', 'cancelled', 'timed_out') then
        raise exception 'result must be success, warning, failed, cancelled or timed_out' using errcode = '22023', column = 'result';
    end if;
    delete from ops.run_queue q
     where q.build_id = p_build_id and q.state = 'leased' and q.lease_owner = p_runner_id and q.lease_id = p_lease_id;
    if not found then
        raise exception 'This runner no longer holds the lease of build %.', p_build_id using errcode = 'OOL01';
    end if;
    update ops.builds b
       set status = p_result, finished_at = pg_catalog.now(), result_detail = pg_catalog.left(p_detail, 4000)
     where b.id = p_build_id;
end
$$;
revoke all on function ops.finish_build_job(uuid, uuid, uuid, text, text) from public, ops_app, ops_service;
grant execute on function ops.finish_build_job(uuid, uuid, uuid, text, text) to ops_service;
