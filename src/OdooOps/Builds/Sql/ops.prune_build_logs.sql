-- Retention of build logs: deletes the lines of builds that finished before p_before, oldest build first, at most
-- p_batch lines per call, so that a large backlog goes in short transactions (callers repeat until a call did
-- nothing). A build whose lines are all gone keeps one 'system' line, p_note, and is marked (log_pruned_at), so it is
-- not visited again. The newest finished build of each branch, and its newest successful one, keep their logs
-- whatever their age: they are the ones people still open.
create or replace function ops.prune_build_logs(p_before timestamptz, p_note text, p_batch integer)
returns table (lines_deleted bigint, builds_pruned integer)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_build   record;
    v_left    int := p_batch;
    v_n       int;
    v_lines   bigint := 0;
    v_builds  int := 0;
begin
    if p_before is null or p_note is null or p_batch is null or p_batch < 1 then
        raise exception 'prune_build_logs: p_before, p_note and a positive p_batch are required' using errcode = '22023';
    end if;
    for v_build in
        select b.id, b.project_id from ops.builds b
         where b.log_pruned_at is null and b.finished_at is not null and b.finished_at < p_before
           and exists (select 1 from ops.builds n
                        where n.branch_id = b.branch_id and n.created_at > b.created_at and n.finished_at is not null)
           and (b.status not in ('success', 'warning')
                or exists (select 1 from ops.builds n
                            where n.branch_id = b.branch_id and n.created_at > b.created_at and n.status in ('success', 'warning')))
         order by b.finished_at
         limit p_batch
         for update of b skip locked
    loop
        delete from ops.build_logs l
         where l.build_id = v_build.id
           and l.seq = any (array(select g.seq from ops.build_logs g where g.build_id = v_build.id order by g.seq limit v_left));
        get diagnostics v_n = row_count;
        v_lines := v_lines + v_n;
        v_left := v_left - v_n;
        exit when v_left <= 0; -- this build may have lines left: the next call goes on with it
        insert into ops.build_logs (build_id, project_id, seq, stream, line)
        values (v_build.id, v_build.project_id, 0, 'system', p_note);
        update ops.builds b set log_pruned_at = pg_catalog.now() where b.id = v_build.id;
        v_builds := v_builds + 1;
    end loop;
    return query select v_lines, v_builds;
end
$$;
revoke all on function ops.prune_build_logs(timestamptz, text, integer) from public, ops_app, ops_service;
grant execute on function ops.prune_build_logs(timestamptz, text, integer) to ops_service;
