-- The queue, cheaper per job (measured by `bench -- claim`).
-- A runner's result in fewer writes: the lease check and the queue row's removal are one DELETE (before, the row was
-- locked, then deleted by builds_dequeue), and the finish commits without a NOTIFY. A NOTIFY serializes the commits
-- of all notifying transactions behind one lock, and a durable finish does not need one: the runner API sends the
-- log streams' wake-up right after, in a transaction of its own that does not wait for the disk. Same signature,
-- same errors (OOL01 when the runner no longer holds the lease, 22023 for a bad result).
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

-- Room on each page for a row's next version, so that updates which change no indexed column (a build's commit and
-- modules, its result detail) stay on the page (HOT) instead of adding an entry to every index.
alter table ops.builds set (fillfactor = 85);

-- The claim's statement takes parameters (runner, free slots, its labels), so PL/pgSQL kept choosing a custom plan and
-- planned the whole statement again at every claim: a third of the queue's CPU. Its generic plan is the same ordered
-- walk of run_queue_claim_idx, planned once per session.
alter function ops.claim_build_jobs(uuid, int, int) set plan_cache_mode = force_generic_plan;

-- Superseded by ops.start_embedded_runner (0013), which keeps an admin's disable; nothing calls it any more.
drop function ops.ensure_embedded_runner(text, int, text[], text, bytea);
