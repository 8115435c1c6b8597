-- Leases a runner the tasks it should run now, as part of its instance sync (only a runner that hosts instances takes
-- tasks: a task works on a branch's database and filestore, which live on the branch's host). Its tasks: queued ones
-- placed on it (runner_tasks.runner_id), or placed nowhere while it is the branch's host (the branch's pin, else the
-- runner of its current instance), of its own organisation's projects (a shared runner: any). Oldest first, at most
-- p_max_running running on the runner at once, and none that must wait:
--   after:   a task whose options name an `after` task waits until that one succeeded (a failed or cancelled one
--            fails it: ops_private.fail_waiting_tasks);
--   branch:  a backup or restore waits while another backup or restore of its branch runs, and a restore while a
--            build of its branch runs (it would swap the database under the build's update).
-- A verify or restore task whose backup is not (or no longer) a succeeded one fails instead of starting. A leased task
-- is running (attempt + 1) until now + p_lease_seconds; its backup is marked running (ops_private.settle_task_backup).
-- Answers each leased task with the branch's current instance on this runner and its database (null when none), the
-- first log seq of this attempt, whether a restore is neutralised (always into staging or development) and the host
-- labels of the branch's URL.
create or replace function ops.claim_runner_tasks(p_runner_id uuid, p_lease_seconds int, p_max_running int)
returns table (task_id uuid, lease_id uuid, attempt int, kind text, project_id uuid, project_slug text, branch_id uuid,
               branch text, stage text, odoo_version text, backup_id uuid, instance_id uuid, database_name text,
               log_seq_start bigint, neutralize boolean, branch_label text, project_label text, backup_sha256 text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_runner   ops.runners;
    v_free     int;
    v_task     ops.runner_tasks;
    v_backup   ops.backups;
    v_leased   uuid[] := '{}';
begin
    select * into v_runner from ops.runners r where r.id = p_runner_id and r.disabled_at is null for update;
    if not found then
        raise exception 'Unknown or disabled runner.' using errcode = 'OOR01';
    end if;
    if not v_runner.serves_instances then
        return;
    end if;
    perform ops_private.fail_waiting_tasks();
    select p_max_running - pg_catalog.count(*)::int into v_free
      from ops.runner_tasks t where t.leased_runner_id = p_runner_id and t.status = 'running';
    if v_free <= 0 then
        return;
    end if;

    for v_task in
        select t.*
          from ops.runner_tasks t
          join ops.projects p on p.id = t.project_id
          join ops.branches br on br.id = t.branch_id
         where t.status = 'queued'
           and (v_runner.org_id is null or p.org_id = v_runner.org_id)
           and (t.runner_id = p_runner_id
                or (t.runner_id is null
                    and (br.runner_id = p_runner_id
                         or (br.runner_id is null
                             and exists (select 1 from ops.instances i
                                          where i.branch_id = t.branch_id and i.is_current and i.retired_at is null
                                            and i.runner_id = p_runner_id)))))
           and not exists (select 1 from ops.runner_tasks a where a.id::text = t.options ->> 'after' and a.status <> 'succeeded')
         order by t.created_at
           for update of t skip locked
    loop
        exit when v_free <= 0;
        continue when v_task.kind <> 'verify'
                  and exists (select 1 from ops.runner_tasks o
                               where o.branch_id = v_task.branch_id and o.status = 'running' and o.kind in ('backup', 'restore'));
        continue when v_task.kind = 'restore'
                  and exists (select 1 from ops.builds b join ops.run_queue q on q.build_id = b.id
                               where b.branch_id = v_task.branch_id and q.state = 'leased');
        if v_task.kind <> 'backup' then
            select * into v_backup from ops.backups b where b.id = v_task.backup_id;
            if v_backup.status <> 'succeeded' or v_backup.deleted_at is not null then
                perform ops_private.end_runner_task(v_task.id, 'failed',
                    pg_catalog.format('backup %s cannot be %s: it is %s', v_task.backup_id,
                                      case v_task.kind when 'verify' then 'verified' else 'restored' end,
                                      case when v_backup.deleted_at is not null then 'deleted' else v_backup.status end),
                    'Not started: the backup is not available.');
                continue;
            end if;
        end if;
        update ops.runner_tasks t
           set status = 'running', lease_id = gen_random_uuid(), leased_runner_id = p_runner_id,
               lease_until = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds), attempt = t.attempt + 1,
               started_at = coalesce(t.started_at, pg_catalog.now())
         where t.id = v_task.id
        returning * into v_task;
        perform ops_private.settle_task_backup(v_task, 'running', null);
        v_leased := v_leased || v_task.id;
        v_free := v_free - 1;
    end loop;

    return query
    select t.id, t.lease_id, t.attempt, t.kind, t.project_id, p.slug, t.branch_id, br.name, br.stage, p.runtime_version,
           t.backup_id, i.id, i.database_name,
           greatest(t.log_seq_next, coalesce((select pg_catalog.max(g.seq) + 1 from ops.runner_task_logs g where g.task_id = t.id), 0)),
           (t.kind = 'restore' and br.stage <> 'production') or t.options -> 'neutralize' = 'true'::jsonb,
           br.host_label, p.host_label,
           (select b.sha256 from ops.backups b where b.id = t.backup_id)
      from ops.runner_tasks t
      join ops.projects p on p.id = t.project_id
      join ops.branches br on br.id = t.branch_id
      left join ops.instances i on i.branch_id = t.branch_id and i.is_current and i.retired_at is null and i.runner_id = p_runner_id
     where t.id = any (v_leased)
     order by t.created_at;
end
$$;
revoke all on function ops.claim_runner_tasks(uuid, int, int) from public, ops_app, ops_service;
grant execute on function ops.claim_runner_tasks(uuid, int, int) to ops_service;
