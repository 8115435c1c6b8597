-- Bounded build logs.
-- A build's log has a byte cap besides its line cap: the bytes stored so far and the seq where the log was cut live on
-- the build's queue row, which every append locks already (a finished build takes no more lines).
alter table ops.run_queue
    add column log_bytes  bigint not null default 0 check (log_bytes >= 0),
    add column log_cut_at bigint check (log_cut_at >= 0);

-- Logs of finished builds are deleted after OPS_BUILD_LOG_RETENTION_DAYS; the build row stays, marked, with one system
-- line saying so. The index holds only finished builds whose log is still there: the retention job's walk.
alter table ops.builds add column log_pruned_at timestamptz;
create index builds_log_retention_idx on ops.builds (finished_at)
    where log_pruned_at is null and finished_at is not null;

-- ops.append_build_logs takes the byte cap and answers whether the log is cut (its file defines the new signature).
drop function ops.append_build_logs(uuid, uuid, uuid, bigint[], timestamptz[], text[], text[], bigint);
