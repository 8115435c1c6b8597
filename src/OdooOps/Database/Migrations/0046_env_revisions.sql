-- Which variables an instance runs with, by the server's own count instead of two machines' clocks: every change of a
-- stage's variables moves the stage's revision; the runner's instance sync hands each instance the revision of the
-- variables it sends with it, the runner reports back the revision its server was started with, and the instance keeps
-- it (null: a runner that does not report one, whose instances are judged by when they started, as before).
alter table ops.env_stage_changes
    add column revision bigint not null default 1 check (revision > 0);

alter table ops.instances
    add column env_revision bigint check (env_revision >= 0);

-- It answers env_revision now: its file defines the new return type.
drop function if exists ops.sync_runner_instances(uuid, text, jsonb);
