-- A new advisory opens its history (ops_private.record_advisory_event).
create or replace trigger advisories_history_opened
    after insert on ops.advisories
    for each row
    execute function ops_private.record_advisory_event();
