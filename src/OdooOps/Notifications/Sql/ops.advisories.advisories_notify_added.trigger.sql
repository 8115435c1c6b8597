-- A new open advisory is announced (ops_private.advisories_notify).
create or replace trigger advisories_notify_added
    after insert on ops.advisories
    for each row
    when (new.status = 'open')
    execute function ops_private.advisories_notify();
