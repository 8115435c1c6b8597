-- A deployment that goes live or fails is announced (ops_private.deployments_notify).
create or replace trigger deployments_notify_changed
    after update of status on ops.deployments
    for each row
    when (old.status is distinct from new.status and new.status in ('live', 'failed', 'reverted'))
    execute function ops_private.deployments_notify();
