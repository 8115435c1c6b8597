-- A build that reaches a final status leaves the run queue (see ops.builds_dequeue).
create or replace trigger builds_dequeue
    after update of status on ops.builds
    for each row
    when (old.status in ('queued', 'running')
          and new.status in ('success', 'warning', 'failed', 'cancelled', 'timed_out'))
    execute function ops.builds_dequeue();
