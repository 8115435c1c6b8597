-- Backups, the people's side: the daily schedule's slot and the retention job's removal of stored files.

-- scheduled_for: the day (UTC) whose backup_time slot a daily backup was taken for. One per branch and day, however
-- many serve nodes run the schedule and however often it runs after a restart.
-- file_deleted_at: when the retention job removed the stored zip of a pruned (deleted_at) backup. A pruned backup
-- whose file is not yet gone is retried at the job's next run.
alter table ops.backups
    add column scheduled_for    date,
    add column file_deleted_at  timestamptz,
    add constraint backups_scheduled_for_daily check (scheduled_for is null or kind = 'daily'),
    add constraint backups_file_deleted_after_prune check (file_deleted_at is null or deleted_at is not null);
create unique index backups_daily_slot_idx on ops.backups (branch_id, scheduled_for) where kind = 'daily';
create index backups_files_to_delete_idx on ops.backups (deleted_at) where deleted_at is not null and file_deleted_at is null;
