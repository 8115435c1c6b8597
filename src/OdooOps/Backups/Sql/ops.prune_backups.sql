-- Retention (the backup_retention job, as ops_service): marks deleted_at = p_now on the backups no longer kept and
-- returns how many; the job then deletes their files (ops.backup_files_to_delete). Of each branch's daily backups, the
-- good ones (succeeded, not failed verification) that stand for one of the newest backup_keep_daily days, the newest
-- backup_keep_weekly ISO weeks (Monday to Sunday) or the newest backup_keep_monthly calendar months (UTC) that have a
-- good one — each period's newest good one — are kept; every other good daily backup is pruned, and a daily one that
-- is not good after backup_keep_daily days. Manual and imported backups are kept p_manual_days, pre-deploy and
-- pre-restore ones p_safety_days. Never pruned: the branch's newest succeeded-and-verified backup of any kind and age;
-- a backup a queued or running task uses; one still pending or running. Also fails imports whose upload never finished.
create or replace function ops.prune_backups(p_now timestamptz, p_manual_days int, p_safety_days int)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_pruned  int;
begin
    update ops.backups k
       set status = 'failed', reason = 'The upload did not finish: the connection broke or the server stopped while it was stored.',
           finished_at = p_now
     where k.kind = 'import' and k.status = 'running' and k.started_at < p_now - interval '1 day';

    with live as (
        select k.id, k.branch_id, k.project_id, k.kind, k.status, k.verification, k.created_at,
               (k.created_at at time zone 'UTC') as utc,
               k.status = 'succeeded' and k.verification <> 'failed' as good
          from ops.backups k
         where k.deleted_at is null and k.status in ('succeeded', 'failed')
    ),
    daily as (
        select l.*, p.backup_keep_daily, p.backup_keep_weekly, p.backup_keep_monthly
          from live l join ops.projects p on p.id = l.project_id
         where l.kind = 'daily' and l.good
    ),
    periods as (
        select d.id, d.branch_id, d.created_at, 'day' as unit, pg_catalog.date_trunc('day', d.utc) as period, d.backup_keep_daily as keep from daily d
        union all
        select d.id, d.branch_id, d.created_at, 'week', pg_catalog.date_trunc('week', d.utc), d.backup_keep_weekly from daily d
        union all
        select d.id, d.branch_id, d.created_at, 'month', pg_catalog.date_trunc('month', d.utc), d.backup_keep_monthly from daily d
    ),
    newest_of_period as (
        select distinct on (p.branch_id, p.unit, p.period) p.id, p.branch_id, p.unit, p.period, p.keep
          from periods p
         order by p.branch_id, p.unit, p.period, p.created_at desc, p.id
    ),
    representatives as (
        select r.id
          from (select n.id, n.keep, row_number() over (partition by n.branch_id, n.unit order by n.period desc) as rank
                  from newest_of_period n) r
         where r.rank <= r.keep
    ),
    last_verified as (
        select distinct on (l.branch_id) l.id
          from live l
         where l.status = 'succeeded' and l.verification = 'verified'
         order by l.branch_id, l.created_at desc, l.id
    ),
    kept as (
        select id from representatives
        union select id from last_verified
        union select t.backup_id from ops.runner_tasks t where t.status in ('queued', 'running')
    ),
    doomed as (
        select l.id
          from live l
          join ops.projects p on p.id = l.project_id
         where l.id not in (select id from kept)
           and case l.kind
                   when 'daily' then l.good or l.created_at < p_now - pg_catalog.make_interval(days => p.backup_keep_daily)
                   when 'manual' then l.created_at < p_now - pg_catalog.make_interval(days => p_manual_days)
                   when 'import' then l.created_at < p_now - pg_catalog.make_interval(days => p_manual_days)
                   else l.created_at < p_now - pg_catalog.make_interval(days => p_safety_days)
               end
    )
    update ops.backups k
       set deleted_at = p_now, file_deleted_at = case when k.storage_key is null then p_now end
      from doomed d
     where k.id = d.id;
    get diagnostics v_pruned = row_count;
    return v_pruned;
end
$$;
revoke all on function ops.prune_backups(timestamptz, int, int) from public, ops_app, ops_service;
grant execute on function ops.prune_backups(timestamptz, int, int) to ops_service;
