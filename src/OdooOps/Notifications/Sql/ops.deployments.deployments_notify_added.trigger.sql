-- A deployment recorded with its outcome already (a reverted update) is announced (ops_private.deployments_notify).
create or replace trigger deployments_notify_added
    after insert on ops.deployments
    for each row
    when (new.status in ('live', 'failed', 'reverted'))
    execute function ops_private.deployments_notify();
