-- A runner's result for a task (succeeded or failed, with the reason in p_detail), under its lease (OOL01 otherwise).
-- verify: p_verification ({passed, reason, checks: [{name, passed, detail}]}) is the verdict, kept as the task's result:
--         the backup is verified, or failed verification with the reason (the runner's, else its failed checks); a
--         check that failed fails it whatever `passed` says. Without a verdict a failed task fails the verification
--         ("did not complete"); a succeeded one needs it (22023).
-- backup: ends as its backup did: succeeded only when the backup was recorded succeeded (POST backups/{id}/done),
--         else failed with the backup's reason; a failed task fails a backup still unrecorded.
-- restore: succeeded or failed as reported.
-- A failed task whose cancel was requested is cancelled.
create or replace function ops.finish_runner_task(p_runner_id uuid, p_task_id uuid, p_lease_id uuid, p_result text,
                                                  p_detail text, p_verification jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_task    ops.runner_tasks;
    v_backup  ops.backups;
    v_status  text := p_result;
    v_detail  text := nullif(pg_catalog.btrim(p_detail), '');
    v_passed  boolean;
    v_reason  text;
begin
    v_task := ops_private.held_task_lease(p_runner_id, p_task_id, p_lease_id);
    if p_result is null or p_result not in ('succeeded', 'failed') then
        raise exception 'result must be succeeded or failed' using errcode = '22023', column = 'result';
    end if;
    select * into v_backup from ops.backups b where b.id = v_task.backup_id for update;

    if v_task.kind = 'verify' then
        if p_verification is null and p_result = 'succeeded' then
            raise exception 'A verify task reports its verification.' using errcode = '22023', column = 'verification';
        end if;
        if p_verification is not null then
            v_passed := coalesce((p_verification ->> 'passed')::boolean, false)
                        and not exists (select 1 from pg_catalog.jsonb_array_elements(coalesce(p_verification -> 'checks', '[]')) c
                                         where coalesce((c ->> 'passed')::boolean, false) = false);
            v_reason := coalesce(nullif(pg_catalog.btrim(p_verification ->> 'reason'), ''),
                                 (select pg_catalog.string_agg((c ->> 'name') || ': ' || coalesce(c ->> 'detail', 'failed'), '; ')
                                    from pg_catalog.jsonb_array_elements(coalesce(p_verification -> 'checks', '[]')) c
                                   where coalesce((c ->> 'passed')::boolean, false) = false),
                                 'the verification did not pass');
            update ops.backups b
               set verification = case when v_passed then 'verified' else 'failed' end,
                   verification_reason = case when v_passed then null else pg_catalog.left(v_reason, 2000) end,
                   verified_at = pg_catalog.now()
             where b.id = v_task.backup_id;
            perform ops_private.end_runner_task(p_task_id, v_status, coalesce(v_detail, case when not v_passed then v_reason end),
                                                null, p_verification);
            return;
        end if;
        v_detail := 'the verification did not complete: ' || coalesce(v_detail, 'the runner gave no reason');
    elsif v_task.kind = 'backup' and p_result = 'succeeded' and v_backup.status <> 'succeeded' then
        v_status := 'failed';
        v_detail := coalesce(v_backup.reason,
                             pg_catalog.format('the runner ended the task without recording the backup (POST backups/%s/done)', v_backup.id));
    elsif v_task.kind = 'backup' and v_backup.status in ('succeeded', 'failed') then
        v_status := case v_backup.status when 'succeeded' then 'succeeded' else 'failed' end;
        v_detail := coalesce(v_backup.reason, v_detail);
    end if;
    if v_status = 'failed' and v_task.cancel_requested then
        v_status := 'cancelled';
        v_detail := coalesce(v_detail, 'cancelled');
    end if;
    perform ops_private.end_runner_task(p_task_id, v_status, case when v_status = 'failed' then coalesce(v_detail, 'failed') else v_detail end);
end
$$;
revoke all on function ops.finish_runner_task(uuid, uuid, uuid, text, text, jsonb) from public, ops_app, ops_service;
grant execute on function ops.finish_runner_task(uuid, uuid, uuid, text, text, jsonb) to ops_service;
