-- A build that ended announces it: build.failed (failed or timed out), build.succeeded (success or warning; channels
-- opt in) and, when the branch's previous finished build (cancelled ones aside) had failed, build.fixed as well.
create or replace function ops_private.builds_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch    text := coalesce((select b.name from ops.branches b where b.id = new.branch_id), 'a branch');
    v_subject   jsonb;
    v_previous  text;
begin
    v_subject := pg_catalog.jsonb_build_object(
        'id', new.id, 'status', new.status, 'trigger', new.trigger, 'commit_sha', new.commit_sha,
        'commit_message', pg_catalog.left(pg_catalog.split_part(coalesce(new.commit_message, ''), pg_catalog.chr(10), 1), 200),
        'attempt', new.attempt, 'queued_at', new.queued_at, 'started_at', new.started_at, 'finished_at', new.finished_at,
        'result_detail', pg_catalog.left(new.result_detail, 1000),
        'triggered_by', (select coalesce(u.display_name, u.email) from registry.users u where u.id = new.triggered_by));
    if new.status in ('failed', 'timed_out') then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'build.failed', null,
            'build of ' || v_branch || case when new.status = 'timed_out' then ' timed out' else ' failed' end
                || coalesce(': ' || pg_catalog.left(nullif(new.result_detail, ''), 200), ''),
            'build', v_subject, null);
        return null;
    end if;
    perform ops_private.queue_notification(new.project_id, new.branch_id, 'build.succeeded', null,
        'build of ' || v_branch || case when new.status = 'warning' then ' succeeded with warnings' else ' succeeded' end, 'build', v_subject, null);
    select b.status into v_previous
      from ops.builds b
     where b.branch_id = new.branch_id and b.id <> new.id and b.finished_at is not null
       and b.status in ('success', 'warning', 'failed', 'timed_out')
     order by b.finished_at desc
     limit 1;
    if v_previous in ('failed', 'timed_out') then
        perform ops_private.queue_notification(new.project_id, new.branch_id, 'build.fixed', null,
            'build of ' || v_branch || ' is fixed: it succeeded after a failure', 'build', v_subject, null);
    end if;
    return null;
end
$$;
revoke all on function ops_private.builds_notify() from public, ops_app, ops_service;
