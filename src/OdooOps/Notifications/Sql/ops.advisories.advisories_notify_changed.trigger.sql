-- An advisory that reopens or resolves is announced (ops_private.advisories_notify).
create or replace trigger advisories_notify_changed
    after update of status on ops.advisories
    for each row
    when (old.status is distinct from new.status and new.status in ('open', 'resolved'))
    execute function ops_private.advisories_notify();
