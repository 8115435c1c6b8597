-- Runner tasks run under leases like builds, and a production build knows what it deploys over.

-- A build's requirements.txt (SHA-256 of the checkout's file; null: none, or reported by an older runner). The next
-- production build compares its own with the branch's last successful one: a change asks for a pre-deploy backup.
alter table ops.builds add column requirements_sha256 text check (requirements_sha256 ~ '^[0-9a-f]{64}$');

-- A task's log has the same caps as a build's: the bytes stored so far and the seq where it was cut.
alter table ops.runner_tasks
    add column log_bytes   bigint not null default 0 check (log_bytes >= 0),
    add column log_cut_at  bigint check (log_cut_at >= 0);

-- The tasks a runner is running (the claim counts them against its limit).
create index runner_tasks_leased_idx on ops.runner_tasks (leased_runner_id) where status = 'running';

-- ops.record_build_source takes the requirements' SHA-256 (its file defines the new signature).
drop function ops.record_build_source(uuid, uuid, uuid, text, text, jsonb);
