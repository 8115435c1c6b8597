-- The daily schedule (the backup_schedule job, as ops_service): every production branch of a live project with a current
-- instance and a host (ops_private.backup_host) gets one 'daily' backup for each day, at its project's backup_time (UTC);
-- one whose host is gone (its runner was removed) is not queued to fail, and backup_missing says so within 26 hours.
-- At p_now the due slot is the latest backup_time at or before it (yesterday's while today's has not come yet); a
-- branch with no daily backup for that slot's day gets one queued (ops_private.queue_backup) with scheduled_for = that
-- day. So a server that was down at backup_time catches up when it is back, a restart queues nothing twice, and the
-- unique (branch_id, scheduled_for) index plus one run at a time (an advisory lock) keep it at one per branch and day
-- however many nodes run the job. Returns how many were queued.
create or replace function ops.queue_daily_backups(p_now timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_slot   record;
    v_id     uuid;
    v_count  int := 0;
begin
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('ops.queue_daily_backups'));
    for v_slot in
        select b.id as branch_id, s.day
          from ops.branches b
          join ops.projects p on p.id = b.project_id and p.archived_at is null
         cross join lateral (select (p_now at time zone 'UTC')::date
                                    - case when (p_now at time zone 'UTC')::time < p.backup_time then 1 else 0 end as day) s
         where b.stage = 'production' and b.archived_at is null
           and exists (select 1 from ops.instances i where i.branch_id = b.id and i.is_current and i.retired_at is null)
           and exists (select 1 from ops_private.backup_host(b.id))
           and not exists (select 1 from ops.backups k where k.branch_id = b.id and k.kind = 'daily' and k.scheduled_for = s.day)
         order by b.id
    loop
        v_id := ops_private.queue_backup(v_slot.branch_id, 'daily', null, null);
        update ops.backups k set scheduled_for = v_slot.day where k.id = v_id;
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
revoke all on function ops.queue_daily_backups(timestamptz) from public, ops_app, ops_service;
grant execute on function ops.queue_daily_backups(timestamptz) to ops_service;
