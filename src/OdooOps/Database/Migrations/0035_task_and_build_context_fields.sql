-- The runner also learns a task's backup checksum (verify and restore check the file against it) and a build's branch
-- id (where its filestore lives): both functions return one more column.
drop function if exists ops.claim_runner_tasks(uuid, int, int);
drop function if exists ops.build_deploy_context(uuid, uuid, uuid);
