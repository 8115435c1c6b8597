-- A change of status, or a suppression renewed, goes into the history; the scan's refresh of a firing advisory
-- (last seen, measured value) does not.
create or replace trigger advisories_history_changed
    after update of status, suppressed_until, suppress_reason on ops.advisories
    for each row
    when (new.status is distinct from old.status
          or (new.status = 'suppressed' and (new.suppressed_until is distinct from old.suppressed_until
                                             or new.suppress_reason is distinct from old.suppress_reason)))
    execute function ops_private.record_advisory_event();
