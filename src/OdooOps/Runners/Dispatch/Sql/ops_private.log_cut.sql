-- Where a log (a build's or a runner task's) is cut by its caps, for a batch of numbered lines: at p_max_lines lines,
-- or at the first new line that brings the bytes of line text past p_max_bytes, whichever comes first. p_log_bytes and
-- p_cut_at: the log's bytes so far and its cut, if it has one (then nothing changes); p_stored: the batch's seqs
-- already stored (a re-sent batch adds no bytes). Answers the seq the log is cut at (null: not cut) and, for a new cut,
-- which cap did it, for the log's 'system' line.
create or replace function ops_private.log_cut(p_log_bytes bigint, p_cut_at bigint, p_seqs bigint[], p_lines text[], p_stored bigint[],
                                               p_max_lines bigint, p_max_bytes bigint)
returns table (cut bigint, why text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_cut  bigint := p_cut_at;
    v_why  text;
begin
    if v_cut is null then
        -- The new lines in order, each with the bytes the log would hold with it: the first past the cap cuts.
        select pg_catalog.min(n.seq) into v_cut
          from (select s.seq, p_log_bytes + pg_catalog.sum(pg_catalog.octet_length(s.line)) over (order by s.seq) as total
                  from rows from (pg_catalog.unnest(p_seqs), pg_catalog.unnest(p_lines)) as s(seq, line)
                 where s.seq < p_max_lines and not s.seq = any (p_stored)) n
         where n.total > p_max_bytes;
        if v_cut is not null then
            v_why := pg_catalog.format('%s (OPS_BUILD_LOG_MAX_BYTES)', pg_catalog.pg_size_pretty(p_max_bytes));
        elsif exists (select 1 from pg_catalog.unnest(p_seqs) x where x >= p_max_lines) then
            v_cut := p_max_lines;
            v_why := pg_catalog.format('%s lines (OPS_BUILD_LOG_MAX_LINES)', p_max_lines);
        end if;
    end if;
    return query select v_cut, v_why;
end
$$;
revoke all on function ops_private.log_cut(bigint, bigint, bigint[], text[], bigint[], bigint, bigint) from public, ops_app, ops_service;
