-- A build that ends is announced to the channels that want it (ops_private.builds_notify), in the same transaction.
create or replace trigger builds_notify
    after update of status on ops.builds
    for each row
    when (old.status is distinct from new.status and new.status in ('success', 'warning', 'failed', 'timed_out'))
    execute function ops_private.builds_notify();
